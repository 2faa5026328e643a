// Starts Swagger UI (loaded before this module) on the API's own OpenAPI document, whose URL the
// page names. Nothing leaves this origin: no validator badge, no URL bar to load another document.
const ui = window.SwaggerUIBundle({
  url: document.body.dataset.openapi,
  dom_id: "#swagger-ui",
  presets: [window.SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  displayRequestDuration: true,
  filter: true,
  validatorUrl: null,
  supportedSubmitMethods: ["get"],
});
window.ui = ui;
