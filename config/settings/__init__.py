"""Herald settings: every knob comes from the environment with a safe local default.

docs/settings.md lists every variable (tests/docs/test_settings.py checks it). Bad values
raise ImproperlyConfigured at start.
One module per area, each reading its own variables; an area that needs another's
value imports it by name, so the order below only has to follow those imports.
"""

from config.settings.api import *  # noqa: F403
from config.settings.base import *  # noqa: F403
from config.settings.headers import *  # noqa: F403
from config.settings.reports import *  # noqa: F403
from config.settings.sending import *  # noqa: F403
from config.settings.signin import *  # noqa: F403
