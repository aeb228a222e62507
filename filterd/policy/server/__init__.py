"""filterd as a policy server: the front end Postfix's check_policy_service points at. Each request runs the
chain's hooks up to its protocol state, and the verdict goes back as an access(5) action.

The public names, for filterd's service runner: serve_policy (the listener on a bound socket) and PolicySettings
(its settings from the configuration). The modules behind them are internal.
"""

from filterd.policy.server.listener import serve_policy
from filterd.policy.server.settings import PolicySettings

__all__ = ["PolicySettings", "serve_policy"]
