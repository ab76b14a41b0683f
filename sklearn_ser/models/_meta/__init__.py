"""The meta-estimators, one per file: ``stacked`` (Chou & Lee 2019),
``mlee_fusion`` (Ando et al. 2019), ``noisy_label`` (Fujioka et al. 2020);
``base`` holds what they share (stages, quiet fits,
frozen fusion heads)."""
