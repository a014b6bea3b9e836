"""/v1/catalog over real HTTP on loopback, against a hub on SQLite and on PostgreSQL."""

from __future__ import annotations

import httpx

from warmline.catalog.demo import ensure_demo_catalog
from warmline.hub.embedded import EmbeddedHub
from warmline.hub.settings import HubSettings


async def test_catalog_routes(database_url: str) -> None:
    await ensure_demo_catalog(database_url)
    hub = EmbeddedHub(HubSettings(database_url=database_url, host="127.0.0.1", port=0))
    hub.start()
    try:
        _agent, agent_token = hub.create_agent("ana", ["drives"])
        bot_token = hub.create_bot("product-ai")
        async with httpx.AsyncClient(base_url=hub.base_url, timeout=30) as anon:
            assert (await anon.get("/v1/catalog/search", params={"q": "gearbox"})).status_code == 401
        for token in (agent_token, bot_token):
            async with httpx.AsyncClient(
                base_url=hub.base_url, timeout=30, headers={"Authorization": f"Bearer {token}"}
            ) as c:
                r = await c.get("/v1/catalog/search", params={"q": "washdown gearbox ip>=65 torque>=180Nm"})
                assert r.status_code == 200, r.text
                assert {"GX-220", "GX-240"} <= {h["sku"] for h in r.json()}

                r = await c.get("/v1/catalog/products/GX-240")
                assert r.status_code == 200
                sheet = r.json()
                assert sheet["product"]["sku"] == "GX-240" and sheet["conflicts"][0]["attribute"] == "torque"

                r = await c.get("/v1/catalog/products/GX-230")
                assert r.status_code == 404
                detail = r.json()["detail"]
                assert detail["code"] == "not_found" and {"GX-220", "GX-240"} <= set(detail["closest"])

                r = await c.get(
                    "/v1/catalog/products/GX-200/substitutes",
                    params=[("constraint", "torque>=180Nm"), ("constraint", "ip>=65")],
                )
                assert r.status_code == 200
                first = r.json()[0]
                assert first["product"]["sku"] == "GX-220" and first["via_supersession"] is True
                assert [v["verdict"] for v in first["verdicts"] if not v["implicit"]] == ["meets", "meets"]

                r = await c.get(
                    "/v1/catalog/products/GX-200/substitutes", params={"constraint": "torque>=9 parsecs"}
                )
                assert r.status_code == 422
                err = r.json()["detail"][0]
                assert err["loc"] == ["query", "constraint", 0] and "'parsecs'" in err["msg"]

                r = await c.get("/v1/catalog/products/GX-220/accessories")
                assert r.status_code == 200 and r.json()[0]["product"]["family"] == "gearmotor"

                # SKUs with a slash travel in the path
                r = await c.get("/v1/catalog/products/PF-EX-04G12-014")
                assert r.status_code == 200
    finally:
        hub.stop()
