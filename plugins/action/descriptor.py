# -*- coding: utf-8 -*-
# Copyright: DINFRA developers
# Apache License 2.0 (see LICENSE)

"""The dinfra.chain.descriptor action: runs the module (plugins/modules/descriptor.py, which documents
it) in the controller, without a module process of its own (plugin_utils/in_controller.py)."""

from __future__ import annotations

from ..modules import descriptor
from ..plugin_utils.in_controller import InControllerAction


class ActionModule(InControllerAction):
    MODULE = descriptor
