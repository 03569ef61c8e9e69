"""How the OpenAPI schema describes the API's own parts: its token sign-in."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class TokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": (
                "“Token <key>”, with a key made on your Tokens page. 在“令牌”页面生成的令牌：“Token <key>”。"
            ),
        }


# The refusals any operation may answer, each with the API's error body (api.errors).
REFUSALS = {
    "400": "Bad input: each problem with its field · 输入有误：逐项列出字段与原因",
    "401": "No valid token or session · 未提供有效令牌或会话",
    "403": "Your role may not do this · 您的角色无权执行此操作",
    "404": "Not found, or outside your area · 不存在或不在您的范围内",
    "429": "Too many requests: wait for Retry-After seconds · 请求过多：请在 Retry-After 秒后重试",
}


def document_refusals(result, generator, request, public):
    """Every operation of the API documents the refusals it may answer (api.errors), with their body."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    if "Error" not in schemas:
        return result
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/v1/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for code, description in REFUSALS.items():
                responses.setdefault(code, {"description": description, "content": error})
            if "429" in responses:
                responses["429"].setdefault(
                    "headers", {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds · 秒"}}
                )
    return result
