"""The county side beside the settlement core: reports, sheets and exports over the ledger."""
