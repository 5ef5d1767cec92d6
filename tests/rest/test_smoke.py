async def test_create_read(client):
    r = await client.post("Patient", json={"resourceType": "Patient", "name": [{"family": "X"}]})
    assert r.status_code == 201, r.text
    loc = r.headers["location"]
    pid = r.json()["id"]
    r2 = await client.get(f"Patient/{pid}")
    assert r2.status_code == 200
    assert r2.json()["name"] == [{"family": "X"}]
    assert loc.endswith(f"Patient/{pid}/_history/1")
