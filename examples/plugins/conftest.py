"""Let the example plugins' tests import them by module name, as a user's own plugin directory would."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
