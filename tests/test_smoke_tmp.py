from support import PREFIX


def test_it(client, headers, database):
    r = client.get(PREFIX + "/amount-of-chats?start=2024-01-01&end=2024-01-02", headers=headers)
    assert r.status_code == 200, r.json
    assert r.json == {"departments": [], "count": 0, "offset": 0, "total": 0, "success": True}
