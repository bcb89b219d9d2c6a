"""The experiments behind the examples and ``graphrnn reproduce``: one module per experiment."""
