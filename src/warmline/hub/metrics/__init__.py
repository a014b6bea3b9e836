"""Handoff quality metrics (issue 13): facts captured as handoffs change (``capture``), the
buyer's repeats (``repeats``), the seven measures over a window (``compute``) and the
``warmline report`` / ``warmline review export`` commands (``report``)."""
