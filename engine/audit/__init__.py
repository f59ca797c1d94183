"""The store-level audit: what ``verify`` checks beyond each case's chain (``verify``), the check ``act`` and
``tick`` make before writing (``rowcheck``), the upgrade of an older store (``upgrade``), a Merkle root over
every case's head sealed into a checkpoint kept outside the database (``seal``), and the comparison of a
store against such a checkpoint (``against``). The hash rule and the tree format are written down in
docs/audit.md so an outside tool can recompute them."""
