"""Sources: composites that read raw inputs and emit commit records or pairs."""
