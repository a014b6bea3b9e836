"""The demo product page `warmline demo` serves at /demo/shop, with the widget embedded."""

from __future__ import annotations

import html

SHOP_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>GX-220 helical gearbox · Nordic Motion Supply (Warmline demo shop)</title>
<style>
  :root {{ color-scheme: light dark; font-family: system-ui, sans-serif; }}
  body {{ margin: 0; line-height: 1.5; }}
  header {{ padding: 12px 20px; background: #0f3b5f; color: #fff; }}
  main {{ max-width: 860px; margin: 0 auto; padding: 20px; }}
  table {{ border-collapse: collapse; width: 100%; max-width: 520px; }}
  td, th {{ border-bottom: 1px solid #8884; padding: 6px 8px; text-align: left; }}
  .price {{ font-size: 1.3em; font-weight: 600; }}
</style>
</head>
<body>
<header><strong>Nordic Motion Supply</strong> · industrial drives, pumps and fittings</header>
<main>
  <h1>GX-220 helical gearbox</h1>
  <p class="price">Price on request · ships in 2–4 weeks</p>
  <p>Helical in-line gearbox for conveyor drives. Ask our product assistant about ratings,
  documents, substitutes or a quote: the chat button is at the bottom right.</p>
  <table>
    <tr><th>Rated torque</th><td>220 Nm</td></tr>
    <tr><th>Ratio</th><td>1:20</td></tr>
    <tr><th>Protection</th><td>IP65</td></tr>
  </table>
  <p>Try: <em>"What is the rated torque of the GX-220?"</em>, <em>"Which pump for my coolant
  loop?"</em> or <em>"I need a quote for 40 units"</em>.</p>
{people}</main>
<script src="/widget.js" data-workspace="{key}" async></script>
</body>
</html>
"""


PEOPLE = """  <section aria-labelledby="play">
  <h2 id="play">Demo: be a buyer who is already waiting</h2>
  <p>The simulator leaves these handed-off conversations to you: open one and write as that
  buyer while a specialist answers in the console.</p>
  <ul>
{items}  </ul>
  </section>
"""


def shop_page(key: str, people: list[tuple[str, str, str]] | None = None) -> str:
    """The page; ``people`` = (label, conversation id, buyer token) to continue as that buyer."""
    items = "".join(
        f'    <li><a href="#warmline-conversation={html.escape(cid)}.{html.escape(token)}">'
        f"{html.escape(label[:160])}</a></li>\n"
        for label, cid, token in people or []
    )
    return SHOP_PAGE.format(
        key=html.escape(key, quote=True), people=PEOPLE.format(items=items) if items else ""
    )
