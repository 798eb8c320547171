// a link to a heading inside a folded section (Going deeper) opens the section first
function openFoldedTarget() {
  const id = decodeURIComponent(window.location.hash.slice(1));
  const target = id && document.getElementById(id);
  const folded = target && target.closest("details.folded-section");
  if (folded && !folded.open) {
    folded.open = true;
    target.scrollIntoView();
  }
}
window.addEventListener("hashchange", openFoldedTarget);
document.addEventListener("DOMContentLoaded", openFoldedTarget);

// search results quote the pages' text, where math is TeX: typeset each batch of results as it comes
document.addEventListener("DOMContentLoaded", () => {
  const results = document.getElementById("search-results");
  if (!results || !window.MathJax) return;
  let pending = false;
  new MutationObserver(() => {
    if (pending || !window.MathJax.typesetPromise) return;
    pending = true;
    window.setTimeout(() => window.MathJax.typesetPromise([results]).finally(() => { pending = false; }), 200);
  }).observe(results, {childList: true, subtree: true});
});
