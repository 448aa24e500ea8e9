"""Offline GraphiQL playground: HTML page loading GraphiQL/React from server/static, no CDN,
and the Content-Security-Policy it works under."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import pathlib

__all__ = ["DEFAULT_QUERY", "STATIC_DIR", "graphiql_csp", "graphiql_html"]

#: Directory holding the static files; mount it (e.g. with Starlette's
#: ``StaticFiles(directory=STATIC_DIR)``) at the ``static_prefix`` passed to
#: :func:`graphiql_html`.  The GraphiQL files live in ``STATIC_DIR / "graphiql"``.
STATIC_DIR: pathlib.Path = pathlib.Path(__file__).resolve().parent / "static"

#: Query shown in the editor the first time the playground is opened.
DEFAULT_QUERY = """\
# Welcome to the GraphiQL playground.
#
# Most operations need you to be signed in.
#
# 1. Get an access token (with the demo:
#    owner@agency.example / demo-password):
#
#      mutation {
#        login(
#          email: "owner@agency.example"
#          password: "demo-password"
#        ) {
#          tokens { accessToken }
#          errors { code message }
#        }
#      }
#
# 2. In the "Headers" tab below, enter:
#
#      {"Authorization": "Bearer <token>"}
#
#    (headers are kept in this browser). The docs
#    and auto-completion then show what your role
#    may use ("Re-fetch GraphQL schema", the circling
#    arrows bottom left, fetches it again).
#
# 3. Then try, for example:
#
#      query {
#        clients(first: 5) {
#          totalCount
#          edges {
#            node {
#              id
#              name
#              status { name category }
#            }
#          }
#        }
#      }
#
# Run: Ctrl+Enter (Cmd+Enter on macOS) or the
# play button. Ctrl+Space: auto-completion.
# The book icon on the left opens the docs.
"""


def _js(value: str) -> str:
    """Encode *value* as a JavaScript string literal safe inside <script>."""
    return (
        json.dumps(value)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


_STYLE = """
    html, body { height: 100%; margin: 0; overflow: hidden; }
    #graphiql { height: 100vh; }
  """


def _boot_script(graphql_path: str) -> str:
    """The page's one inline script: renders GraphiQL against *graphql_path*."""
    return f"""
    (function () {{
      var url = {_js(graphql_path)};
      // Subscriptions go over a WebSocket to the same path (graphql-transport-ws); GraphiQL sends
      // the Headers tab as the connection_init payload, so the same Authorization signs it in.
      var wsUrl = (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + url;
      var root = ReactDOM.createRoot(document.getElementById("graphiql"));
      var appliedHeaders = null;
      var timer = null;
      // Each caller sees its own schema: when the Headers tab settles on different valid JSON
      // (a token pasted, or removed), a new fetcher makes GraphiQL introspect again, so the docs
      // and autocompletion follow who is signed in without the re-fetch button.
      function onEditHeaders(text) {{
        clearTimeout(timer);
        timer = setTimeout(function () {{
          var normal;
          try {{ normal = JSON.stringify(JSON.parse(text || "{{}}")); }} catch (e) {{ return; }}
          if (normal !== appliedHeaders) {{
            appliedHeaders = normal;
            render();
          }}
        }}, 500);
      }}
      // GraphiQL's fetcher sends a subscription over the socket only when it is handed the parsed
      // document and the operation's exact name (an anonymous one went over HTTP, which answers
      // 400): hand it both.
      function fetcherFor(base) {{
        return function (params, options) {{
          var ast = null;
          try {{ ast = GraphiQL.GraphQL.parse(params.query); }} catch (e) {{ return base(params, options); }}
          var operations = ast.definitions.filter(function (d) {{ return d.kind === "OperationDefinition"; }});
          var chosen = operations.length === 1 ? operations[0] : operations.filter(function (d) {{
            return d.name && d.name.value === params.operationName;
          }})[0];
          if (chosen && chosen.operation === "subscription") {{
            params = Object.assign({{}}, params, {{ operationName: chosen.name ? chosen.name.value : undefined }});
            options = Object.assign({{}}, options, {{ documentAST: ast }});
          }}
          return base(params, options);
        }};
      }}
      function render() {{
        root.render(
          React.createElement(GraphiQL, {{
            fetcher: fetcherFor(GraphiQL.createFetcher({{ url: url, subscriptionUrl: wsUrl }})),
            defaultQuery: {_js(DEFAULT_QUERY)},
            isHeadersEditorEnabled: true,
            shouldPersistHeaders: true,
            defaultEditorToolsVisibility: "headers",
            onEditHeaders: onEditHeaders
          }})
        );
      }}
      render();
    }})();
  """


def graphiql_html(graphql_path: str = "/graphql", static_prefix: str = "/static") -> str:
    """Return the full HTML page of the GraphiQL playground.

    ``graphql_path`` is the URL (path) GraphiQL sends its requests to;
    ``static_prefix`` is where :data:`STATIC_DIR` is mounted. The page only
    references files below ``{static_prefix}/graphiql/`` on the same server.
    """
    base = html.escape(static_prefix.rstrip("/") + "/graphiql", quote=True)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="robots" content="noindex">
  <title>GraphiQL</title>
  <link rel="stylesheet" href="{base}/graphiql.min.css">
  <style>{_STYLE}</style>
</head>
<body>
  <div id="graphiql">Loading GraphiQL&hellip;</div>
  <script src="{base}/react.production.min.js"></script>
  <script src="{base}/react-dom.production.min.js"></script>
  <script src="{base}/graphiql.min.js"></script>
  <script>{_boot_script(graphql_path)}</script>
</body>
</html>
"""


def _sha256(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode()).digest()).decode() + "'"


def graphiql_csp(graphql_path: str = "/graphql") -> str:
    """The Content-Security-Policy the page of :func:`graphiql_html` works under: scripts and
    styles from this server plus the page's own inline script and style (by hash, so nothing
    injected runs); GraphiQL's fonts and icons are data: URIs in its CSS; requests go to this
    server only; no plugins, no framing, no <base>, no form posts."""
    return "; ".join(
        (
            "default-src 'none'",
            f"script-src 'self' {_sha256(_boot_script(graphql_path))}",
            f"style-src 'self' {_sha256(_STYLE)}",
            "font-src 'self' data:",
            "img-src 'self' data:",
            "connect-src 'self'",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        )
    )
