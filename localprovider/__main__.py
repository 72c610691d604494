"""`python -m localprovider`: the local provider on its own, without Django."""

import sys

from localprovider.cli import main

sys.exit(main())
