/*
 * The demo frontend. It uses only django-kyc's public API (the root comes from data-api-root), the
 * session cookie and the CSRF token in the X-CSRFToken header, as a separate single-page app would.
 * No framework and no build step, so the whole flow can be read in one file.
 *
 * It speaks the page's language: its sentences come from this app's djangojs catalog (gettext, ngettext and
 * interpolate, defined by the JavaScriptCatalog script the page loads first), the names of statuses and
 * document types from django_kyc's catalog, rendered into the page (#onboarding-labels), and dates are
 * formatted for the page's <html lang>.
 */
(() => {
  "use strict";

  const app = document.getElementById("app");
  const API_ROOT = app.dataset.apiRoot;
  const CSRF_TOKEN = app.dataset.csrfToken;
  const POLL_MS = 2000;
  // Statuses after which nothing changes without a person: polling stops there.
  const FINAL = new Set(["approved", "declined", "expired", "cancelled"]);
  // The names of the API's codes in the page's language, from the server (django_kyc's own labels).
  const LABELS = JSON.parse(document.getElementById("onboarding-labels").textContent);
  const LANGUAGE = document.documentElement.lang || undefined;
  const DATE_TIME = new Intl.DateTimeFormat(LANGUAGE, { dateStyle: "medium", timeStyle: "medium" });
  const TIME = new Intl.DateTimeFormat(LANGUAGE, { timeStyle: "medium" });
  // a date of birth is a calendar day, not an instant: read and shown in UTC so no time zone moves it
  const DAY = new Intl.DateTimeFormat(LANGUAGE, { dateStyle: "long", timeZone: "UTC" });
  // a review's due date is an instant: shown as the day it falls on where the person is
  const DATE = new Intl.DateTimeFormat(LANGUAGE, { dateStyle: "long" });

  // What the page says when a verification reaches a status (it replaces "Verification started…").
  const STATUS_MESSAGES = {
    awaiting_user: gettext("Finish the verification on the provider's page: use the link below."),
    processing: gettext("The provider is checking your document."),
    review: gettext("A reviewer is looking at your verification; this page updates when they decide."),
    resubmission_requested: gettext("The provider asks for a new document: upload it, then start the verification again."),
    approved: gettext("Verification approved: your identity is verified."),
    declined: gettext("Verification declined; the reasons are below."),
    expired: gettext("The verification expired before it was finished; start a new one."),
    cancelled: gettext("The verification was cancelled."),
    error: gettext("The verification could not be submitted; a reviewer will look at it."),
  };
  // Why the document and verification steps are closed, by applicant status (the API decides whether they are).
  const CLOSED_BECAUSE = {
    in_progress: gettext("A verification is running: wait for its result."),
    review: gettext("A reviewer is looking at your verification."),
    verified: gettext("Your identity is verified: there is nothing more to do."),
    suspended: gettext("Your applicant is suspended; contact support."),
  };

  // The re-verification prompt, when the API says a review is due (`action_required`) for a verified person.
  const REVIEW_PROMPTS = {
    verified: gettext("Your verification is due for renewal: upload a current document and verify again before %(date)s."),
    reverification_required: gettext("Your verification has lapsed: upload a current document and verify again."),
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
    if (!data) return interpolate(gettext("Request failed (%s)."), [result.status]);
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
    return LABELS.status[status] || status || "–";
  }

  function setBadge(element, status) {
    element.textContent = label(status);
    element.dataset.status = status || "";
  }

  function when(value) {
    return value ? DATE_TIME.format(new Date(value)) : "–";
  }

  /** A calendar day from the API ("1990-12-10") as the page's language writes it. */
  function day(value) {
    return value ? DAY.format(new Date(`${value}T00:00:00Z`)) : "–";
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

  // Only the step's form is closed: the verification's status and its hosted-flow link beside it stay usable.
  function enableStep(id, enabled) {
    const form = $(id).querySelector("form");
    form.setAttribute("aria-disabled", enabled ? "false" : "true");
    form.querySelectorAll("button, input, select").forEach((element) => {
      element.disabled = !enabled;
    });
  }

  /** Open or close the steps as the API's `actions` say: the server's rules, not a copy of them here. */
  function applyActions(applicant) {
    const actions = (applicant && applicant.actions) || {};
    enableStep("step-document", Boolean(actions.upload_document));
    enableStep("step-verification", Boolean(actions.start_verification));
    const closed = applicant && !actions.upload_document && !actions.start_verification;
    const note = $("actions-note");
    note.textContent = closed ? CLOSED_BECAUSE[applicant.status] || "" : "";
    const prompt = applicant && applicant.action_required && REVIEW_PROMPTS[applicant.status];
    if (prompt) {
      const due = applicant.status === "verified" && applicant.next_review_at;
      note.textContent = due ? interpolate(prompt, { date: DATE.format(new Date(applicant.next_review_at)) }, true) : prompt;
    }
    note.dataset.review = prompt ? "due" : "";
    note.hidden = !note.textContent;
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
    $("applicant-dob").textContent = day(applicant.date_of_birth);
    $("applicant-nationality").textContent = applicant.nationality || "–";
    $("applicant-reference").textContent = applicant.reference;
    setBadge($("applicant-status"), applicant.status);
    applyActions(applicant);
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
    flash(gettext("Applicant created. Next, upload a document."));
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
      const files = documentRow.files.length;
      name.textContent = interpolate(
        ngettext("%(type)s · %(count)s file · uploaded %(when)s", "%(type)s · %(count)s files · uploaded %(when)s", files),
        {
          type: LABELS.document_type[documentRow.type] || documentRow.type.replace(/_/g, " "),
          count: files.toLocaleString(LANGUAGE),
          when: when(documentRow.created_at),
        },
        true,
      );
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
    flash(gettext("Document uploaded. Next, choose a flow and start the verification."));
    await loadDocuments();
  });

  // --- verifications ------------------------------------------------------------------------------------
  function logStatus(verification) {
    const item = document.createElement("li");
    const time = document.createElement("time");
    time.textContent = TIME.format(new Date());
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
    $("verification-attempts").textContent = verification.attempts.toLocaleString(LANGUAGE);
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
      if (STATUS_MESSAGES[verification.status]) flash(STATUS_MESSAGES[verification.status]);
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
    button.classList.remove("busy");
    if (!result.ok) {
      button.disabled = false;
      showErrors("verification", errorText(result));
      return;
    }
    flash(gettext("Verification started: the server queued its submission to the provider."));
    follow(result.data);
    await Promise.all([refreshApplicant(), loadHistory()]); // the applicant's actions now close the steps
  });

  // --- start --------------------------------------------------------------------------------------------
  async function init() {
    applyActions(null);
    // ?mine=true answers 200 with zero or one applicant: "no applicant yet" is not an error (applicants/me/
    // would say it with a 404, which the browser reports in the console)
    const result = await api("applicants/?mine=true");
    $("applicant-loading").hidden = true;
    if (!result.ok) {
      flash(interpolate(gettext("Could not load your applicant: %s"), [errorText(result)]));
      return;
    }
    const mine = result.data.results || [];
    if (!mine.length) {
      $("applicant-form").hidden = false;
      return;
    }
    showApplicant(mine[0]);
    await loadDocuments();
    const rows = await loadHistory();
    if (rows.length) {
      follow(rows[0]); // the newest verification; polled again if it is still moving
      await loadHistory();
    }
  }

  init();
})();
