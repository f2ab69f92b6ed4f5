# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""The dinfra.chain.subscription action: runs the module (plugins/modules/subscription.py, which documents
it) in the controller, without a module process of its own (plugin_utils/in_controller.py)."""

from __future__ import annotations

from ..modules import subscription
from ..plugin_utils.in_controller import InControllerAction


class ActionModule(InControllerAction):
    MODULE = subscription
