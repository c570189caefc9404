/* A launch answers the LMS's form post with the page itself. Put the page's own address
   (with its session) in place of /launch, so reload and back do not post the launch again. */
(function () {
  "use strict";
  var script = document.currentScript;
  var address = script && script.getAttribute("data-address");
  if (address && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", address);
  }
})();
