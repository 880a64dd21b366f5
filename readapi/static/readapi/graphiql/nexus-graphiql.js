/* GraphiQL for Nexus: POSTs to the page's own URL with the session cookie and its CSRF token.
   Settings come from a JSON element, never an inline script, so the page runs under a
   Content-Security-Policy that allows only our own origin. */
(function (document, window) {
  "use strict";
  var settingsElement = document.getElementById("graphiql-settings");
  var settings = settingsElement ? JSON.parse(settingsElement.textContent) : {};

  function cookie(name) {
    var match = ("; " + document.cookie).split("; " + name + "=");
    return match.length === 2 ? decodeURIComponent(match.pop().split(";").shift()) : "";
  }

  var headers = {};
  var csrfToken = cookie(settings.csrfCookieName || "csrftoken") || settings.csrfToken || "";
  if (csrfToken) {
    headers["X-CSRFToken"] = csrfToken;
  }

  var fetcher = window.GraphiQL.createFetcher({
    url: window.location.pathname,
    headers: headers,
  });

  window.ReactDOM.render(
    window.React.createElement(window.GraphiQL, {
      fetcher: fetcher,
      defaultQuery: settings.defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
    }),
    document.getElementById("graphiql"),
  );
})(document, window);
