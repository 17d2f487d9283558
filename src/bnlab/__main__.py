from bnlab.cli import main
from bnlab.runtime.exit import exit_now

exit_now(main())
