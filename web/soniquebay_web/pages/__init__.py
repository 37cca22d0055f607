"""The pages shown inside the frame (``ui.sub_pages`` builders).

These modules (and ``search.py``) do not use ``from __future__ import annotations``: NiceGUI hands a builder
its ``PageArguments`` by recognising the parameter's annotation object, which a string would hide.
"""
