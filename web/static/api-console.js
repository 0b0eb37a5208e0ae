// Starts Swagger UI on /docs (rest/routes/docs.py). A file rather than an inline script:
// the pages' Content-Security-Policy runs only this origin's own scripts. A classic script,
// not a module: SwaggerUIBundle is the global that swagger-ui-bundle.js defines.
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("swagger-ui");
  /* global SwaggerUIBundle */
  window.ui = SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    deepLinking: true,
    // The default validator is a public web service: the console must work offline and
    // send the API description nowhere.
    validatorUrl: null,
    // Without the standalone preset's top bar (a box to load any other URL's description).
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // "Authorize" takes an access token from POST /v1/auth/login; it lives in this page's
    // memory only, as in the app.
    persistAuthorization: false,
    tryItOutEnabled: false,
  });
});
