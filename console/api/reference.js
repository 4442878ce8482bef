// Starts Swagger UI on the document the module serves (GET /openapi.json,
// relative to this page so it works under any <Location>).  No request
// leaves this origin: the online validator badge is off.
'use strict';
window.addEventListener('load', function () {
    var root = document.getElementById('swagger-ui');
    window.ui = SwaggerUIBundle({
        url: new URL(root.dataset.specUrl, document.baseURI).href,
        domNode: root,
        deepLinking: true,
        validatorUrl: null,
        tryItOutEnabled: false
    });
});
