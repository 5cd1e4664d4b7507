"""Provider adapters: one module per SDK behind the small interface in `base`."""
