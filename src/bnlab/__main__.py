from bnlab.cli import main
from bnlab.runtime.collector import collect_seldom, exit_now

collect_seldom()
exit_now(main())
