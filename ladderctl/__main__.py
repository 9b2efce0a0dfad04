from ladderctl.cli import main

raise SystemExit(main())
