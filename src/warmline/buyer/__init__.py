"""The buyer's side of Warmline: the embeddable web chat widget.

``static/`` holds the widget's browser files (plain JS and CSS, no build step), which the
hub serves itself under content-hashed names (``assets``); ``tables`` and ``keys`` are the
widget keys (one per site, with the origins allowed to use it); ``guard`` has the origin
rules and rate limits of the public route that opens a conversation from a page.
"""
