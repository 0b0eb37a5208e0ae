"""The `parley` command: the composition root, which builds every part and wires them."""
