import sys

from graphrnn.cli import main

sys.exit(main())
