# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""The dinfra.chain.deployment_type action: runs the module (plugins/modules/deployment_type.py, which documents
it) in the controller, without a module process of its own (plugin_utils/in_controller.py)."""

from __future__ import annotations

from ..modules import deployment_type
from ..plugin_utils.in_controller import InControllerAction


class ActionModule(InControllerAction):
    MODULE = deployment_type
