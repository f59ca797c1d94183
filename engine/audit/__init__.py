"""The store-level audit: a Merkle root over every case's head, sealed into a checkpoint kept outside the
database (``seal``), and the comparison of a store against such a checkpoint (``against``). The tree format
is written down in docs/audit.md so an outside tool can recompute it."""
