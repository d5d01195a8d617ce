/*
 * The demo frontend. It uses only django-kyc's public API (the root comes from data-api-root), the
 * session cookie and the CSRF token in the X-CSRFToken header, as a separate single-page app would.
 * No framework and no build step, so the whole flow can be read in one file.
 */
(() => {
  "use strict";

  const app = document.getElementById("app");
  const API_ROOT = app.dataset.apiRoot;
  const CSRF_TOKEN = app.dataset.csrfToken;
  const POLL_MS = 2000;
  // Statuses after which nothing changes without a person: polling stops there.
  const FINAL = new Set(["approved", "declined", "expired", "cancelled"]);
  const LABELS = {
    pending: "Pending submission",
    awaiting_user: "Awaiting you",
    processing: "Processing",
    review: "In review",
    resubmission_requested: "Resubmission requested",
    approved: "Approved",
    declined: "Declined",
    expired: "Expired",
    cancelled: "Cancelled",
    error: "Error",
    unverified: "Unverified",
    in_progress: "In progress",
    action_required: "Action required",
    verified: "Verified",
    rejected: "Rejected",
    suspended: "Suspended",
    uploaded: "Uploaded",
    submitted: "Submitted",
    accepted: "Accepted",
    purged: "Purged",
  };

  const $ = (id) => document.getElementById(id);
  const state = { applicant: null, verificationId: null, lastStatus: null, timer: null };

  // --- API ----------------------------------------------------------------------------------------------
  async function api(path, { method = "GET", json, form } = {}) {
    const headers = { Accept: "application/json" };
    let body;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (form !== undefined) {
      body = form; // the browser sets the multipart boundary
    }
    if (method !== "GET") headers["X-CSRFToken"] = CSRF_TOKEN;
    const response = await fetch(API_ROOT + path, { method, headers, body, credentials: "same-origin" });
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch (error) {
        data = { detail: `${response.status} ${response.statusText}` };
      }
    }
    return { ok: response.ok, status: response.status, data };
  }

  /** Turn DRF's error shapes ({detail} or {field: [messages]}) into one readable line. */
  function errorText(result) {
    const data = result.data;
    if (!data) return `Request failed (${result.status}).`;
    if (typeof data.detail === "string") return data.detail;
    return Object.entries(data)
      .map(([field, messages]) => {
        const text = Array.isArray(messages) ? messages.join(" ") : String(messages);
        return field === "non_field_errors" ? text : `${field.replace(/_/g, " ")}: ${text}`;
      })
      .join(" · ");
  }

  // --- rendering helpers --------------------------------------------------------------------------------
  function label(status) {
    return LABELS[status] || status || "–";
  }

  function setBadge(element, status) {
    element.textContent = label(status);
    element.dataset.status = status || "";
  }

  function when(value) {
    return value ? new Date(value).toLocaleString() : "–";
  }

  function showErrors(scope, message) {
    const box = document.querySelector(`.field-errors[data-for="${scope}"]`);
    box.textContent = message || "";
  }

  function flash(message) {
    const box = $("flash");
    box.textContent = message;
    box.hidden = !message;
  }

  function enableSteps(enabled) {
    for (const id of ["step-document", "step-verification"]) {
      const section = $(id);
      section.setAttribute("aria-disabled", enabled ? "false" : "true");
      section.querySelectorAll("button, input, select").forEach((element) => {
        element.disabled = !enabled;
      });
    }
  }

  function busy(button, isBusy) {
    button.disabled = isBusy;
    button.classList.toggle("busy", isBusy);
  }

  // --- applicant ----------------------------------------------------------------------------------------
  function showApplicant(applicant) {
    state.applicant = applicant;
    $("applicant-loading").hidden = true;
    $("applicant-form").hidden = true;
    $("applicant-summary").hidden = false;
    $("applicant-name").textContent = [applicant.first_name, applicant.middle_name, applicant.last_name]
      .filter(Boolean)
      .join(" ");
    $("applicant-dob").textContent = applicant.date_of_birth || "–";
    $("applicant-nationality").textContent = applicant.nationality || "–";
    $("applicant-reference").textContent = applicant.reference;
    setBadge($("applicant-status"), applicant.status);
    enableSteps(true);
  }

  async function refreshApplicant() {
    if (!state.applicant) return;
    const result = await api(`applicants/${state.applicant.id}/`);
    if (result.ok) showApplicant(result.data);
  }

  $("applicant-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = $("create-applicant");
    busy(button, true);
    showErrors("applicant", "");
    const payload = Object.fromEntries(new FormData(form).entries());
    payload.nationality = String(payload.nationality || "").toUpperCase();
    const result = await api("applicants/", { method: "POST", json: payload });
    busy(button, false);
    if (!result.ok) {
      showErrors("applicant", errorText(result));
      return;
    }
    showApplicant(result.data);
    flash("Applicant created. Next, upload a document.");
  });

  // --- documents ----------------------------------------------------------------------------------------
  async function loadDocuments() {
    if (!state.applicant) return;
    const result = await api(`applicants/${state.applicant.id}/documents/`);
    if (!result.ok) return;
    const list = $("document-list");
    list.replaceChildren();
    for (const documentRow of result.data.results || []) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      name.textContent = `${documentRow.type.replace(/_/g, " ")} · ${documentRow.files.length} file(s) · uploaded ${when(documentRow.created_at)}`;
      const badge = document.createElement("span");
      badge.className = "badge";
      setBadge(badge, documentRow.status);
      item.append(name, badge);
      if (documentRow.reasons && documentRow.reasons.length) {
        const reasons = document.createElement("span");
        reasons.className = "muted";
        reasons.textContent = documentRow.reasons.join(", ");
        item.append(reasons);
      }
      list.append(item);
    }
  }

  $("document-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = $("upload-document");
    busy(button, true);
    showErrors("document", "");
    const result = await api(`applicants/${state.applicant.id}/documents/`, {
      method: "POST",
      form: new FormData(form),
    });
    busy(button, false);
    if (!result.ok) {
      showErrors("document", errorText(result));
      return;
    }
    form.reset();
    flash("Document uploaded. Next, choose a flow and start the verification.");
    await loadDocuments();
  });

  // --- verifications ------------------------------------------------------------------------------------
  function logStatus(verification) {
    const item = document.createElement("li");
    const time = document.createElement("time");
    time.textContent = new Date().toLocaleTimeString();
    const badge = document.createElement("span");
    badge.className = "badge";
    setBadge(badge, verification.status);
    item.append(time, badge);
    item.dataset.status = verification.status;
    $("status-log").append(item);
  }

  function renderVerification(verification) {
    $("verification-panel").hidden = false;
    setBadge($("verification-status"), verification.status);
    $("verification-id").textContent = verification.id;
    $("verification-backend").textContent = verification.backend;
    $("verification-reasons").textContent = (verification.reasons || []).join(", ") || "–";
    $("verification-attempts").textContent = String(verification.attempts);
    $("verification-updated").textContent = when(verification.updated_at);
    const showLink = Boolean(verification.client_link) && verification.status === "awaiting_user";
    $("client-link-box").hidden = !showLink;
    if (showLink) {
      $("client-link").href = verification.client_link;
      $("client-link-expires").textContent = when(verification.client_token_expires_at);
    }
    if (verification.status !== state.lastStatus) {
      state.lastStatus = verification.status;
      logStatus(verification);
      return true;
    }
    return false;
  }

  function stopPolling() {
    if (state.timer) clearTimeout(state.timer);
    state.timer = null;
    $("polling-indicator").hidden = true;
  }

  async function poll() {
    const result = await api(`verifications/${state.verificationId}/`);
    if (result.ok) {
      const changed = renderVerification(result.data);
      if (changed) {
        await Promise.all([refreshApplicant(), loadDocuments(), loadHistory()]);
      }
      if (FINAL.has(result.data.status)) {
        stopPolling();
        return;
      }
    }
    state.timer = setTimeout(poll, POLL_MS);
  }

  function follow(verification) {
    stopPolling();
    state.verificationId = verification.id;
    state.lastStatus = null;
    $("status-log").replaceChildren();
    renderVerification(verification);
    if (!FINAL.has(verification.status)) {
      $("polling-indicator").hidden = false;
      state.timer = setTimeout(poll, POLL_MS);
    }
  }

  async function loadHistory() {
    if (!state.applicant) return [];
    const result = await api(`applicants/${state.applicant.id}/verifications/`);
    if (!result.ok) return [];
    const rows = result.data.results || [];
    const body = $("history");
    body.replaceChildren();
    for (const verification of rows) {
      if (verification.id === state.verificationId) continue;
      const row = document.createElement("tr");
      const badge = document.createElement("span");
      badge.className = "badge";
      setBadge(badge, verification.status);
      const cells = [when(verification.created_at), verification.backend, badge, (verification.reasons || []).join(", ") || "–"];
      for (const value of cells) {
        const cell = document.createElement("td");
        cell.append(value);
        row.append(cell);
      }
      body.append(row);
    }
    $("history-card").hidden = body.children.length === 0;
    return rows;
  }

  $("verification-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = $("start-verification");
    busy(button, true);
    showErrors("verification", "");
    const backend = new FormData(event.currentTarget).get("backend");
    const result = await api(`applicants/${state.applicant.id}/verifications/`, {
      method: "POST",
      json: { backend },
    });
    busy(button, false);
    if (!result.ok) {
      showErrors("verification", errorText(result));
      return;
    }
    flash("Verification started: the server queued its submission to the provider.");
    follow(result.data);
    await Promise.all([refreshApplicant(), loadHistory()]);
  });

  // --- start --------------------------------------------------------------------------------------------
  async function init() {
    enableSteps(false);
    const result = await api("applicants/me/");
    $("applicant-loading").hidden = true;
    if (result.status === 404) {
      $("applicant-form").hidden = false;
      return;
    }
    if (!result.ok) {
      flash(`Could not load your applicant: ${errorText(result)}`);
      return;
    }
    showApplicant(result.data);
    await loadDocuments();
    const rows = await loadHistory();
    if (rows.length) {
      follow(rows[0]); // the newest verification; polled again if it is still moving
      await loadHistory();
    }
  }

  init();
})();
