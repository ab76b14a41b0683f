"""The meta-estimators (models made of other models), one per file:
``stacked`` (Chou & Lee 2019), ``mlee_fusion`` (Ando et al. 2019); ``base``
holds what they share (stages, quiet fits, frozen fusion heads). The
noisy-label model of Fujioka et al. 2020 learns its labels' weights inside one
network: it lives with the sequence estimators."""
