"""The sequence estimators: ``SequenceClassifier`` (``base``) and the
networks built on it, one per file (``blstm_attention``, ``cnn_blstm``,
``superb_head``, ``fusion_head``, ``noisy_label``: Fujioka et al. 2020's
meta-learned label weights)."""
