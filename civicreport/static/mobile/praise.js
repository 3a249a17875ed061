// 文明点赞 on the submit form: the citizen reports good conduct seen instead of a problem. The
// problem's parts (category, suggestions, cases nearby) step aside; the office confirms a praise
// report (核实点赞) and may put it on the 光荣榜, it is never dispatched.
const form = document.getElementById("report-form");
const description = document.getElementById("description");
const PLACEHOLDERS = { problem: description.placeholder, praise: "例如：公交车在斑马线前停车，礼让过街的老人" };

export function isPraise() {
  return form.elements.kind.value === "praise";
}

function show() {
  form.classList.toggle("praise", isPraise());
  description.placeholder = PLACEHOLDERS[form.elements.kind.value];
}

for (const choice of form.elements.kind) choice.addEventListener("change", show);
show();
