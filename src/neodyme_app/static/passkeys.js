// Passkeys on neodyme's pages: the one script they load, because WebAuthn is only
// reachable from JavaScript (navigator.credentials). Every other part of the pages works
// without it; so does this page when the browser has no passkey support: the passkey
// boxes stay hidden.
//
// A box (data-passkey="add" or "get") names its two routes: data-options gives the
// WebAuthn options, data-verify takes the authenticator's answer. Both are JSON POSTs with
// the page's session cookie and CSRF token; a refusal comes back in the API's error
// envelope, whose message the box shows.
"use strict";

(function () {
  const supported =
    window.PublicKeyCredential &&
    typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function" &&
    typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function";

  async function post(box, url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf },
      body: JSON.stringify(body),
    });
    const type = response.headers.get("Content-Type") || "";
    if (!type.startsWith("application/json")) {
      throw new Error("The page is out of date: reload it and try again.");
    }
    const answer = await response.json();
    if (!response.ok) {
      throw new Error(answer.error ? answer.error.message : "The passkey was not accepted.");
    }
    return answer;
  }

  function field(box, name) {
    const input = box.querySelector(`[name="${name}"]`);
    return input ? input.value : "";
  }

  async function add(box) {
    const options = await post(box, box.dataset.options, { password: field(box, "password") });
    const credential = await navigator.credentials.create({
      publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options),
    });
    const name = field(box, "name").trim();
    return post(box, box.dataset.verify, { credential: credential.toJSON(), name: name || null });
  }

  async function get(box) {
    const options = await post(box, box.dataset.options, {});
    const credential = await navigator.credentials.get({
      publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options),
    });
    return post(box, box.dataset.verify, { credential: credential.toJSON() });
  }

  function explain(error) {
    // The browser's own refusals: the user closed the dialog, or it timed out.
    if (error.name === "NotAllowedError" || error.name === "AbortError") {
      return "No passkey was used (the request was cancelled or timed out).";
    }
    if (error.name === "InvalidStateError") {
      return "This device already holds a passkey for your account.";
    }
    return error.message;
  }

  for (const box of document.querySelectorAll("[data-passkey]")) {
    if (!supported) continue;
    box.hidden = false;
    const button = box.querySelector("button");
    // Made an alert when it has something to say: an empty one would be read out as one.
    const alert = box.querySelector("[data-passkey-alert]");
    button.addEventListener("click", async () => {
      button.disabled = true;
      alert.hidden = true;
      try {
        const done = await (box.dataset.passkey === "add" ? add(box) : get(box));
        window.location.assign(done.redirect);
      } catch (error) {
        alert.textContent = explain(error);
        alert.setAttribute("role", "alert");
        alert.hidden = false;
        button.disabled = false;
      }
    });
  }
})();
