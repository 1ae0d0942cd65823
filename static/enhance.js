// Progressive enhancement only: the service works fully without this script.
// Live word count under answers that have a word limit; the server still counts and decides.
(function () {
  "use strict";
  function count(text) {
    var words = text.trim().split(/\s+/);
    return text.trim() === "" ? 0 : words.length;
  }
  var groups = document.querySelectorAll("[data-word-limit]");
  Array.prototype.forEach.call(groups, function (group) {
    var limit = parseInt(group.getAttribute("data-word-limit"), 10);
    var textarea = group.querySelector("textarea");
    if (!textarea || !limit) { return; }
    var status = document.createElement("div");
    status.className = "word-count";
    status.setAttribute("aria-live", "polite");
    status.id = textarea.id + "-word-count";
    textarea.parentNode.insertBefore(status, textarea.nextSibling);
    var timer = null;
    function update() {
      var remaining = limit - count(textarea.value);
      status.textContent = remaining >= 0
        ? "You have " + remaining + " word" + (remaining === 1 ? "" : "s") + " remaining"
        : "You have " + (-remaining) + " word" + (remaining === -1 ? "" : "s") + " too many";
      status.className = remaining >= 0 ? "word-count" : "word-count word-count--over";
    }
    textarea.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 400);
    });
    update();
  });
  // Move focus to the error summary so keyboard and screen reader users hear it first.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.setAttribute("tabindex", "-1");
    summary.focus();
  }
})();
