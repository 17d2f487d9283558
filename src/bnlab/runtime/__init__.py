"""How a stage process runs: signals as exceptions at safe points (interrupt),
TensorFlow's native log kept off the terminal (quiet), imports without a
library's unused extras (imports), an exit without a last garbage collection
(exit)."""
