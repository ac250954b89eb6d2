def test_api_docs_load_nothing_from_a_cdn(client):
    """The interactive docs must work on networks without internet access."""
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    body = response.content.decode()
    assert "swagger-ui-bundle.js" in body
    assert "cdn." not in body and "unpkg" not in body and "jsdelivr" not in body
