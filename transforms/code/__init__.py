"""Code understanding with tree-sitter: parsing, syntax filters, functions, mutations."""
