// The booking forms' customer-and-car picker: a result button fills the hidden customer and
// vehicle inputs of its picker; arrow keys move through the results, Enter chooses.
(function () {
  if (window.autocrmPicker) return;
  window.autocrmPicker = true;
  function choose(button) {
    var picker = button.closest("[data-picker]");
    picker.querySelector("[data-pick-customer]").value = button.dataset.customer;
    picker.querySelector("[data-pick-vehicle]").value = button.dataset.vehicle || "";
    picker.querySelector("[data-pick-chosen]").textContent = "✓ " + button.dataset.label;
    button.parentElement.querySelectorAll("[data-pick]").forEach(function (b) {
      b.classList.toggle("active", b === button);
      b.setAttribute("aria-selected", b === button ? "true" : "false");
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-pick]");
    if (button) { event.preventDefault(); choose(button); }
  });
  document.addEventListener("keydown", function (event) {
    var picker = event.target.closest && event.target.closest("[data-picker]");
    if (!picker) return;
    var buttons = Array.prototype.slice.call(picker.querySelectorAll("[data-pick]"));
    if (!buttons.length) { if (event.key === "Enter" && event.target.name === "q") event.preventDefault(); return; }
    var index = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown") { event.preventDefault(); buttons[Math.min(index + 1, buttons.length - 1)].focus(); }
    else if (event.key === "ArrowUp") { event.preventDefault(); if (index <= 0) picker.querySelector("input[name=q]").focus(); else buttons[index - 1].focus(); }
    else if (event.key === "Enter" && event.target.name === "q") { event.preventDefault(); choose(buttons[0]); }
  });
})();
