// Replica of TikTok Studio's upload page, driven by window.__STUDIO__ from the server.
// Plain DOM code on purpose: no build step, readable by whoever debugs a selector.
// cfg.features names the layout variant's parts (sandbox/studio_variants.py): each part
// below has the default markup and the one an independently written replica would use;
// the model behind them (upload, caption entities, the post body) is shared, so every
// variant records posts on the server exactly alike.
(function () {
  "use strict";
  const cfg = window.__STUDIO__;
  const names = cfg.names;
  const root = document.getElementById("root");
  const features = cfg.features || [];
  const has = (f) => features.indexOf(f) >= 0;

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    }
    return el;
  }

  function toast(message) {
    const t = h("div", { class: "toast-error", role: "alert" }, message);
    document.body.appendChild(t);
    setTimeout(() => t.remove(), 4000);
  }

  try { localStorage.setItem("studio_last_visit", String(Date.now())); } catch (e) { /* ignore */ }

  // ---- cookie banner: a custom element with an open shadow root covering the page ----
  class CookieBanner extends HTMLElement {
    connectedCallback() {
      const shadow = this.attachShadow({ mode: "open" });
      shadow.innerHTML = `
        <style>
          .backdrop { position: fixed; inset: 0; background: rgba(0,0,0,.35); z-index: 9000; }
          .banner { position: fixed; left: 0; right: 0; bottom: 0; background: #fff; padding: 20px 32px; z-index: 9001;
                    display: flex; gap: 16px; align-items: center; box-shadow: 0 -2px 12px rgba(0,0,0,.2); }
          .banner p { flex: 1; margin: 0; }
          button { padding: 8px 16px; border-radius: 4px; border: 1px solid #ccc; background: #fff; cursor: pointer; }
          button.accept { background: #fe2c55; color: #fff; border-color: #fe2c55; }
        </style>
        <div class="backdrop"></div>
        <div class="banner">
          <p>We use cookies to enhance your experience. Manage your choices or allow all cookies.</p>
          <button class="decline">Decline optional cookies</button>
          <button class="accept">Allow all</button>
        </div>`;
      const close = (value) => {
        document.cookie = "cookie-consent=" + value + "; path=/; max-age=31536000";
        this.remove();
      };
      shadow.querySelector(".accept").addEventListener("click", () => close("all"));
      shadow.querySelector(".decline").addEventListener("click", () => close("essential"));
    }
  }
  customElements.define("tiktok-cookie-banner", CookieBanner);
  function showCookieBanner() {
    if (cfg.cookie_banner && !document.cookie.split("; ").some((c) => c.startsWith("cookie-consent="))) {
      document.body.appendChild(document.createElement("tiktok-cookie-banner"));
    }
  }
  if (cfg.shell) { showCookieBanner(); return; } // the Creator Center page around the iframe

  // A click-blocking overlay with a dialog; `inert` also takes the keyboard from the page.
  // One interrupting dialog at a time, as on the real site: later ones wait their turn.
  // Closing one gives the focus (and the caret) back to where it was, as accessible
  // dialogs do, so whoever was typing goes on typing.
  const overlayQueue = [];
  let overlayOpen = false;
  function overlay(cls, dialogAttrs, content, inert) {
    let box = null;
    let closed = false;
    let returnTo = null;
    let caret = null;
    function show() {
      overlayOpen = true;
      returnTo = document.activeElement;
      const sel = window.getSelection();
      caret = sel.rangeCount && returnTo && returnTo.contains(sel.anchorNode) ? sel.getRangeAt(0).cloneRange() : null;
      box = h("div", { class: "overlay-backdrop " + cls },
        h("div", Object.assign({ class: "overlay-dialog" }, dialogAttrs), content));
      document.body.appendChild(box);
      if (inert) root.inert = true;
    }
    function close() {
      if (closed) return;
      closed = true;
      if (!box) { overlayQueue.splice(overlayQueue.indexOf(show), 1); return; }
      box.remove();
      if (inert) root.inert = false;
      overlayOpen = false;
      if (returnTo && returnTo.isConnected && returnTo !== document.body) {
        returnTo.focus();
        if (caret && caret.startContainer.isConnected) {
          const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(caret);
        }
      }
      const next = overlayQueue.shift();
      if (next) next();
    }
    if (overlayOpen) overlayQueue.push(show); else show();
    return close;
  }

  // ---- layout --------------------------------------------------------------------
  // The file area: {input, card, status, replace, begin(name), progress(pct, label), done(), failed(msg)}
  function defaultFileArea() {
    const input = h("input", { type: "file", accept: "video/*", style: "display:none" });
    const card = h("div", { class: "upload-card", "data-e2e": names.select_card },
      input,
      h("div", { class: "title" }, "Select video to upload"),
      h("div", { class: "sub" }, "Or drag and drop it here"),
      h("button", { class: "primary", type: "button", onclick: () => input.click() }, "Select video"));
    const bar = h("div");
    const statusText = h("span", { class: "status-text" }, "Uploading 0%");
    const fileName = h("span", { class: "file-name" });
    const replace = h("button", { type: "button", hidden: true }, "Replace");
    const status = h("div", { class: "upload-status", "data-e2e": names.upload_status, hidden: true },
      fileName, h("div", { class: "bar" }, bar), statusText, replace);
    return {
      input, card, status, replace, outside: null,
      begin(name) { fileName.textContent = name; this.progress(0, "Uploading 0%"); statusText.className = "status-text"; },
      progress(pct, label) { bar.style.width = pct + "%"; statusText.textContent = label; },
      done() { this.progress(100, "Uploaded"); },
      failed(message) { statusText.textContent = message; statusText.className = "status-text upload-failed"; },
    };
  }
  function buttonFileArea() {
    // file_button: the input sits hidden at the end of <body>; the button opens a chooser.
    const input = h("input", { type: "file", accept: "video/mp4,video/quicktime,video/webm", hidden: true,
      id: "vid-picker", tabindex: "-1" });
    const card = h("section", { class: "drop-area", "aria-label": "Upload" },
      h("div", { class: "drop-area__icon", "aria-hidden": "true" }, "⇪"),
      h("p", { class: "drop-area__headline" }, "Select video to upload"),
      h("p", { class: "drop-area__hint" }, "Or drag and drop a file"),
      h("p", { class: "drop-area__small" }, "MP4 or WebM · up to 10 minutes · 1080p or higher"),
      h("button", { type: "button", class: "pill-button", onclick: () => input.click() }, "Select video"));
    const name = h("strong", { class: "file-progress__name" });
    const meter = h("progress", { max: "100", value: "0", "aria-label": "Upload progress" });
    const state = h("span", { class: "file-progress__state" }, "Uploading 0%");
    const replace = h("button", { type: "button", class: "link-button", hidden: true }, "Replace");
    const status = h("div", { class: "file-progress", role: "status", "aria-live": "polite", hidden: true },
      h("div", { class: "file-progress__row" }, name), meter,
      h("div", { class: "file-progress__row" }, state, replace));
    return {
      input, card, status, replace, outside: input,
      begin(fileName) { name.textContent = fileName; state.className = "file-progress__state"; this.progress(0, "Uploading 0%"); },
      progress(pct, label) { meter.value = pct; state.textContent = label; },
      done() { this.progress(100, "Uploaded"); },
      failed(message) { state.textContent = message; state.className = "file-progress__state file-progress__state--error"; },
    };
  }
  const fileArea = has("file_button") ? buttonFileArea() : defaultFileArea();
  const fileInput = fileArea.input;
  const card = fileArea.card;
  const statusBox = fileArea.status;
  const replaceBtn = fileArea.replace;
  card.addEventListener("dragover", (e) => e.preventDefault());
  card.addEventListener("drop", (e) => {
    e.preventDefault();
    if (e.dataTransfer && e.dataTransfer.files.length) startUpload(e.dataTransfer.files[0]);
  });

  // caption editor: the section holding it, the editable element, the character count
  let editor, counter, captionSection;
  if (has("plain_editor")) {
    // plain_editor: a bare contenteditable named by its visible heading, no Draft.js classes
    editor = h("div", { class: "caption-input", contenteditable: "true", spellcheck: "false",
      "aria-labelledby": "caption-heading", "aria-multiline": "true",
      "data-placeholder": "Share more about your video here…" });
    counter = h("span", { class: "caption-box__count" }, "0/" + cfg.caption_limit);
    captionSection = h("section", { class: "panel" },
      h("h3", { id: "caption-heading", class: "panel__title" }, "Caption"),
      h("div", { class: "caption-box" }, editor), h("div", { class: "caption-box__foot" }, counter));
  } else {
    editor = h("div", {
      class: names.editor_class, contenteditable: "true", role: "textbox",
      spellcheck: "false", "aria-label": "Description",
    });
    counter = h("div", { class: "caption-count" }, "0/" + cfg.caption_limit);
    captionSection = h("div", { class: "section" }, h("div", { class: "label" }, "Description"),
      h("div", { class: "caption-wrap", "data-e2e": "caption_container" },
        h("div", { class: "DraftEditor-root" }, editor)), counter);
  }
  const entityClass = has("plain_editor")
    ? { hashtag: "caption-token caption-token--hashtag", mention: "caption-token caption-token--mention" }
    : { hashtag: "hashtag-tag", mention: "mention-tag" };

  // suggestion list: {el, show(items, highlighted, type), hide(), open()}
  function defaultSuggestions() {
    const el = h("div", { class: "mention-list-popover", hidden: true, role: "listbox" });
    (editor.closest(".caption-wrap") || editor.parentNode).appendChild(el);
    return {
      el,
      open() { return !el.hidden; },
      hide() { el.hidden = true; el.textContent = ""; },
      show(list, highlighted, type, pick) {
        el.textContent = "";
        list.forEach((it, i) => {
          const label = type === "hashtag"
            ? [h("span", { class: "hash-tag-topic" }, it.label), h("span", { class: "hash-view-count" }, it.views || "")]
            : [h("span", { class: "user-id" }, it.label), h("span", { class: "nick-name" }, it.nickname || "")];
          const row = h("div", { role: "option", "aria-selected": String(i === highlighted), class: "mention-item" }, label);
          row.addEventListener("mousedown", (e) => { e.preventDefault(); pick(i); });
          el.appendChild(row);
        });
        el.hidden = false;
      },
    };
  }
  function classSuggestions() {
    // suggestions_class: a <ul> at the end of <body>, placed under the editor; the
    // highlighted row carries the class is-active (no roles, no aria-selected)
    const el = h("ul", { class: "suggest-menu" });
    return {
      el,
      open() { return el.isConnected; },
      hide() { el.remove(); el.textContent = ""; },
      show(list, highlighted, type, pick) {
        el.textContent = "";
        list.forEach((it, i) => {
          const body = type === "hashtag"
            ? [h("span", { class: "suggest-menu__tag" }, it.label), h("span", { class: "suggest-menu__meta" }, it.views || "")]
            : [h("span", { class: "suggest-menu__avatar", "aria-hidden": "true" }, (it.nickname || it.value).slice(0, 1)),
               h("span", { class: "suggest-menu__text" },
                 h("span", { class: "suggest-menu__nick" }, it.nickname || it.value),
                 h("span", { class: "suggest-menu__handle" }, it.label))];
          const row = h("li", { class: "suggest-menu__row" + (i === highlighted ? " is-active" : "") }, body);
          row.addEventListener("mousedown", (e) => { e.preventDefault(); pick(i); });
          el.appendChild(row);
        });
        const box = editor.getBoundingClientRect();
        el.style.left = (box.left + window.scrollX) + "px";
        el.style.top = (box.bottom + window.scrollY + 4) + "px";
        if (!el.isConnected) document.body.appendChild(el);
      },
    };
  }
  const suggestions = has("suggestions_class") ? classSuggestions() : defaultSuggestions();

  // visibility: {box, show(i)}; the choice goes through setVisibility(i)
  const visLabels = ["Everyone", "Friends", "Only you"];
  let visibility = 0;
  function defaultVisibility() {
    const visValue = h("span", { class: "select-value" }, visLabels[0]);
    const visList = h("div", { role: "listbox", hidden: true },
      visLabels.map((label, i) => h("div", { role: "option", "data-index": String(i),
        onclick: () => { setVisibility(i); visList.hidden = true; visToggle.setAttribute("aria-expanded", "false"); } },
        label)));
    const visToggle = h("button", { type: "button", role: "combobox", "aria-expanded": "false",
      onclick: () => { visList.hidden = !visList.hidden; visToggle.setAttribute("aria-expanded", String(!visList.hidden)); } },
      visValue);
    const box = h("div", { "data-e2e": names.visibility },
      h("div", { class: "label" }, "Who can watch this video"),
      h("div", { class: "select" }, visToggle, visList));
    return { box, show(i) { visValue.textContent = visLabels[i]; } };
  }
  function listboxVisibility() {
    // visibility_listbox: a plain button; its listbox opens at the end of <body>
    const value = h("span", { id: "visibility-value" }, visLabels[0]);
    const trigger = h("button", { type: "button", class: "dropdown-trigger", "aria-haspopup": "listbox",
      "aria-expanded": "false", "aria-labelledby": "visibility-label visibility-value" },
      value, h("span", { class: "dropdown-trigger__caret", "aria-hidden": "true" }, "▾"));
    let menu = null;
    function close() {
      if (menu) { menu.remove(); menu = null; }
      trigger.setAttribute("aria-expanded", "false");
    }
    function open() {
      menu = h("ul", { role: "listbox", class: "floating-menu", "aria-labelledby": "visibility-label" },
        visLabels.map((label, i) => h("li", { role: "option", "aria-selected": String(i === visibility),
          onclick: (e) => { e.stopPropagation(); setVisibility(i); close(); } }, label)));
      const r = trigger.getBoundingClientRect();
      menu.style.left = (r.left + window.scrollX) + "px";
      menu.style.top = (r.bottom + window.scrollY + 2) + "px";
      menu.style.minWidth = r.width + "px";
      document.body.appendChild(menu);
      trigger.setAttribute("aria-expanded", "true");
    }
    trigger.addEventListener("click", (e) => { e.stopPropagation(); if (menu) close(); else open(); });
    document.addEventListener("click", (e) => { if (menu && !menu.contains(e.target)) close(); });
    document.addEventListener("keydown", (e) => { if (menu && e.key === "Escape") close(); });
    const box = h("section", { class: "panel" },
      h("span", { id: "visibility-label", class: "panel__title" }, "Who can watch this video"), trigger);
    return { box, show(i) { value.textContent = visLabels[i]; } };
  }
  function selectVisibility() {
    // visibility_select: a native <select>
    const select = h("select", { id: "visibility-select", class: "native-select" },
      visLabels.map((label, i) => h("option", { value: String(i) }, label)));
    select.addEventListener("change", () => setVisibility(Number(select.value)));
    const box = h("section", { class: "panel" },
      h("label", { for: "visibility-select", class: "panel__title" }, "Who can watch this video"), select);
    return { box, show(i) { select.value = String(i); } };
  }
  const vis = has("visibility_listbox") ? listboxVisibility()
    : has("visibility_select") ? selectVisibility() : defaultVisibility();
  const visBox = vis.box;

  function checkbox(label, checked) {
    const input = h("input", { type: "checkbox", checked: checked });
    const wrap = h("label", { class: "checkbox-container" }, input, " " + label);
    return { input, wrap };
  }
  function switchBox(label, checked) {
    // toggle_switches: Comment/Duet/Stitch as switches; `input` reads like a checkbox's
    const sw = h("button", { type: "button", role: "switch", class: "toggle",
      "aria-checked": String(checked), "aria-label": label });
    sw.addEventListener("click", () => sw.setAttribute("aria-checked", String(sw.getAttribute("aria-checked") !== "true")));
    const input = {
      get checked() { return sw.getAttribute("aria-checked") === "true"; },
      set checked(on) { sw.setAttribute("aria-checked", String(Boolean(on))); },
      get disabled() { return sw.disabled; },
      set disabled(off) { sw.disabled = Boolean(off); },
    };
    return { input, wrap: h("div", { class: "toggle-row" }, h("span", { class: "toggle-row__label" }, label), sw) };
  }
  const allowBox = has("toggle_switches") ? switchBox : checkbox;
  const comment = allowBox("Comment", true);
  const duet = allowBox("Duet", false);
  const stitch = allowBox("Stitch", false);

  function toggleSwitch(label, onchange) {
    const sw = h("button", { type: "button", role: "switch", "aria-checked": "false", "aria-label": label });
    sw.addEventListener("click", () => {
      const on = sw.getAttribute("aria-checked") !== "true";
      sw.setAttribute("aria-checked", String(on));
      if (onchange) onchange(on);
    });
    return { sw, row: h("div", { class: "switch-row" }, h("span", {}, label), sw) };
  }
  const brandOrganic = checkbox("Your brand", false);
  const brandContent = checkbox("Branded content", false);
  const brandOptions = h("div", { class: "brand-options", hidden: true }, brandOrganic.wrap, brandContent.wrap);
  const disclose = toggleSwitch("Disclose video content", (on) => {
    brandOptions.hidden = !on;
    if (!on) { brandOrganic.input.checked = false; brandContent.input.checked = false; }
  });
  const aigc = toggleSwitch("AI-generated content");

  function setVisibility(i) {
    visibility = i;
    vis.show(i);
    const priv = i === 2;
    for (const box of [duet, stitch]) {
      box.input.disabled = priv;
      if (priv) box.input.checked = false;
      box.wrap.classList.toggle("disabled", priv);
    }
  }

  // when to post
  const nowRadio = h("input", { type: "radio", name: "postSchedule", value: "post_now", checked: true });
  const laterRadio = h("input", { type: "radio", name: "postSchedule", value: "schedule" });
  const dateInput = h("input", { class: "date-picker-input", readonly: true });
  const timeInput = h("input", { class: "time-picker-input", readonly: true });
  // schedule_picker: a native date input and a <select> of 5-minute times, each labelled
  const nativeSchedule = has("schedule_picker");
  const dateField = h("input", { type: "date", class: "field-date", id: "schedule-date" });
  const timeField = h("select", { class: "field-time", id: "schedule-time" });
  for (let i = 0; i < 24 * 60; i += 5) {
    const label = String(Math.floor(i / 60)).padStart(2, "0") + ":" + String(i % 60).padStart(2, "0");
    timeField.appendChild(h("option", { value: label }, label));
  }
  const picker = nativeSchedule
    ? h("div", { class: "schedule-fields", hidden: true },
      h("div", { class: "schedule-fields__item" }, h("label", { for: "schedule-date" }, "Date"), dateField),
      h("div", { class: "schedule-fields__item" }, h("label", { for: "schedule-time" }, "Time"), timeField))
    : h("div", { class: "scheduled-picker", hidden: true }, dateInput, timeInput);
  let sched = null; // {y, m, d, hh, mm}
  dateField.addEventListener("change", () => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dateField.value);
    if (m) { sched.y = Number(m[1]); sched.m = Number(m[2]) - 1; sched.d = Number(m[3]); }
  });
  timeField.addEventListener("change", () => {
    const [hh, mm] = timeField.value.split(":").map(Number);
    sched.hh = hh; sched.mm = mm;
  });

  function pad(n) { return String(n).padStart(2, "0"); }
  function isoDate(dt) { return dt.getFullYear() + "-" + pad(dt.getMonth() + 1) + "-" + pad(dt.getDate()); }
  function schedDate() { return new Date(sched.y, sched.m, sched.d, sched.hh, sched.mm, 0, 0); }
  function showSched() {
    if (nativeSchedule) {
      dateField.min = isoDate(new Date(Date.now() + cfg.min_schedule_s * 1000));
      dateField.max = isoDate(new Date(Date.now() + cfg.max_schedule_s * 1000));
      dateField.value = isoDate(schedDate());
      timeField.value = pad(sched.hh) + ":" + pad(sched.mm);
      return;
    }
    dateInput.value = sched.y + "-" + pad(sched.m + 1) + "-" + pad(sched.d);
    timeInput.value = pad(sched.hh) + ":" + pad(sched.mm);
  }
  function defaultSched() {
    const t = new Date(Date.now() + (cfg.min_schedule_s + 300) * 1000);
    t.setMinutes(Math.ceil(t.getMinutes() / 5) * 5, 0, 0);
    sched = { y: t.getFullYear(), m: t.getMonth(), d: t.getDate(), hh: t.getHours(), mm: t.getMinutes() };
  }
  function closePickers() { for (const el of picker.querySelectorAll(".calendar-wrapper, .tiktok-timer-container")) el.remove(); }
  function onWhen() {
    picker.hidden = !laterRadio.checked;
    if (laterRadio.checked && !sched) { defaultSched(); showSched(); }
    if (!laterRadio.checked) closePickers();
  }
  nowRadio.addEventListener("change", onWhen);
  laterRadio.addEventListener("change", onWhen);

  let calMonth = null; // Date at the first of the shown month
  function openCalendar() {
    closePickers();
    calMonth = calMonth || new Date(sched.y, sched.m, 1);
    const first = Date.now() + cfg.min_schedule_s * 1000;
    const last = Date.now() + cfg.max_schedule_s * 1000;
    const firstDay = new Date(first); firstDay.setHours(0, 0, 0, 0);
    const lastDay = new Date(last); lastDay.setHours(0, 0, 0, 0);
    const cal = h("div", { class: "calendar-wrapper" });
    const title = calMonth.toLocaleString("en-US", { month: "long", year: "numeric" });
    const prev = h("span", { class: "arrow prev", role: "button" }, "‹");
    const next = h("span", { class: "arrow next", role: "button" }, "›");
    prev.addEventListener("click", (e) => { e.stopPropagation(); calMonth = new Date(calMonth.getFullYear(), calMonth.getMonth() - 1, 1); openCalendar(); });
    next.addEventListener("click", (e) => { e.stopPropagation(); calMonth = new Date(calMonth.getFullYear(), calMonth.getMonth() + 1, 1); openCalendar(); });
    cal.appendChild(h("div", { class: "month-header" }, prev, h("span", { class: "month-title" }, title), next));
    const days = h("div", { class: "days" });
    for (let i = 0; i < calMonth.getDay(); i++) days.appendChild(h("span", { class: "blank" }));
    const dim = new Date(calMonth.getFullYear(), calMonth.getMonth() + 1, 0).getDate();
    for (let d = 1; d <= dim; d++) {
      const dt = new Date(calMonth.getFullYear(), calMonth.getMonth(), d);
      const valid = dt >= firstDay && dt <= lastDay;
      const selected = sched.y === dt.getFullYear() && sched.m === dt.getMonth() && sched.d === d;
      const cell = h("span", { class: "day " + (valid ? "valid" : "invalid") + (selected ? " selected" : ""),
        "data-date": isoDate(dt) }, String(d));
      if (valid) cell.addEventListener("click", (e) => {
        e.stopPropagation();
        sched.y = dt.getFullYear(); sched.m = dt.getMonth(); sched.d = d;
        showSched(); closePickers();
      });
      days.appendChild(cell);
    }
    cal.appendChild(days);
    picker.appendChild(cal);
  }
  function openTimer() {
    closePickers();
    const hours = h("div", { class: "column hours" });
    for (let i = 0; i < 24; i++) {
      const o = h("span", { class: "hour-option" + (sched.hh === i ? " selected" : "") }, pad(i));
      o.addEventListener("click", (e) => { e.stopPropagation(); sched.hh = i; showSched(); openTimer(); });
      hours.appendChild(o);
    }
    const minutes = h("div", { class: "column minutes" });
    for (let i = 0; i < 60; i += 5) {
      const o = h("span", { class: "minute-option" + (sched.mm === i ? " selected" : "") }, pad(i));
      o.addEventListener("click", (e) => { e.stopPropagation(); sched.mm = i; showSched(); closePickers(); });
      minutes.appendChild(o);
    }
    picker.appendChild(h("div", { class: "tiktok-timer-container" }, hours, minutes));
  }
  dateInput.addEventListener("click", openCalendar);
  timeInput.addEventListener("click", openTimer);

  // post_text_only: nothing but the text names the button (generated classes, native disabled)
  const textOnly = has("post_text_only");
  const postBtn = textOnly
    ? h("button", { type: "button", class: "css-1n3qf8a e1ktb0s2", disabled: true },
      h("div", { class: "css-1z070dx" }, h("div", { class: "css-zb2u7f" }, "Post")))
    : h("button", { type: "button", class: "btn-post", "data-e2e": names.post_button,
      "data-disabled": "true", "aria-disabled": "true" }, "Post");
  const discardBtn = textOnly
    ? h("button", { type: "button", class: "css-1n3qf8a e1ktb0s3" }, h("div", { class: "css-1z070dx" }, "Discard"))
    : h("button", { type: "button" }, "Discard");

  const form = h("div", { class: "form", hidden: true },
    captionSection,
    visBox,
    h("div", { class: "section" }, h("div", { class: "label" }, "Allow users to:"), comment.wrap, duet.wrap, stitch.wrap),
    disclose.row, brandOptions, aigc.row,
    h("div", { class: "section" }, h("div", { class: "label" }, "When to post"),
      h("label", { class: "radio-container" }, nowRadio, " Now"),
      h("label", { class: "radio-container" }, laterRadio, " Schedule"), picker),
    h("div", { class: "footer" }, postBtn, discardBtn));

  const header = h("header", { class: "studio-header" }, "TikTok Studio",
    textOnly ? h("nav", { class: "studio-nav" }, h("a", { href: "/tiktokstudio/content" }, "Posts")) : null,
    h("span", { class: "user" }, "@" + cfg.username));
  const main = h("main", {}, h("h1", {}, "Upload video"), card, statusBox, form);

  // ---- upload ----------------------------------------------------------------------
  let uploadId = null;
  let uploadSeq = 0;
  let formShown = false;
  function postEnabled() {
    return textOnly ? !postBtn.disabled : postBtn.getAttribute("aria-disabled") !== "true";
  }
  function setPostEnabled(on) {
    if (textOnly) { postBtn.disabled = !on; return; }
    postBtn.setAttribute("data-disabled", String(!on));
    postBtn.setAttribute("aria-disabled", String(!on));
  }
  function startUpload(file) {
    const seq = ++uploadSeq;
    uploadId = null;
    setPostEnabled(false);
    card.hidden = true;
    statusBox.hidden = false;
    replaceBtn.hidden = true;
    fileArea.begin(file.name);
    const firstShow = form.hidden && !formShown;
    form.hidden = false;
    formShown = true;
    if (firstShow) onFormShown();
    const stem = file.name.replace(/\.[^.]*$/, "");
    setText(stem, stem.length);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/upload?filename=" + encodeURIComponent(file.name));
    xhr.setRequestHeader("Content-Type", file.type || "application/octet-stream");
    xhr.upload.onprogress = (e) => {
      if (seq !== uploadSeq || !e.lengthComputable) return;
      const pct = Math.floor((e.loaded / e.total) * 80);
      fileArea.progress(pct, "Uploading " + pct + "%");
    };
    xhr.onload = () => {
      if (seq !== uploadSeq) return;
      if (xhr.status !== 200) return uploadFailed("Upload failed (" + xhr.status + ")");
      const res = JSON.parse(xhr.responseText);
      poll(seq, res.upload_id);
    };
    xhr.onerror = () => { if (seq === uploadSeq) uploadFailed("Upload failed: network error"); };
    xhr.send(file);
  }
  function poll(seq, id) {
    fetch("/api/upload/" + id).then((r) => r.json()).then((res) => {
      if (seq !== uploadSeq) return;
      if (res.state === "done") {
        uploadId = id;
        fileArea.done();
        replaceBtn.hidden = false;
        setPostEnabled(true);
        onUploaded();
      } else if (res.state === "processing") {
        const pct = 80 + Math.floor(res.progress / 5);
        fileArea.progress(pct, "Processing " + pct + "%");
        setTimeout(() => poll(seq, id), res.retry_in_ms);
      } else {
        uploadFailed("Upload failed");
      }
    }).catch(() => { if (seq === uploadSeq) uploadFailed("Upload failed: network error"); });
  }
  function uploadFailed(message) {
    fileArea.failed(message);
    replaceBtn.hidden = false;
  }
  fileInput.addEventListener("change", () => { if (fileInput.files.length) startUpload(fileInput.files[0]); });
  replaceBtn.addEventListener("click", () => {
    uploadSeq++;
    uploadId = null;
    setPostEnabled(false);
    fileInput.value = "";
    statusBox.hidden = true;
    card.hidden = false;
  });

  // ---- caption editor: a controlled model like Draft.js ------------------------------
  // The text and its entities (hashtags and mentions chosen from the popover) live in a
  // model; every input event is cancelled and applied to the model, then re-rendered.
  let text = "";
  let entities = []; // {start, end, type: "hashtag"|"mention", value}

  function leafLen(n) {
    if (n.nodeType === 3) return n.nodeValue.length;
    if (n.nodeName === "BR") return n.getAttribute && n.getAttribute("data-trail") ? 0 : 1;
    let s = 0;
    for (const c of n.childNodes) s += leafLen(c);
    return s;
  }
  function offsetOf(node, off) {
    if (!editor.contains(node)) return node === editor ? 0 : text.length;
    const r = document.createRange();
    r.setStart(editor, 0);
    r.setEnd(node, off);
    return leafLen(r.cloneContents());
  }
  function selection() {
    const sel = window.getSelection();
    if (!sel.rangeCount) return [text.length, text.length];
    const r = sel.getRangeAt(0);
    const a = offsetOf(r.startContainer, r.startOffset);
    const b = offsetOf(r.endContainer, r.endOffset);
    return [Math.min(a, b), Math.max(a, b)];
  }
  function appendText(parent, s) {
    const parts = s.split("\n");
    parts.forEach((p, i) => {
      if (i > 0) parent.appendChild(document.createElement("br"));
      if (p) parent.appendChild(document.createTextNode(p));
    });
  }
  function placeCaret(offset) {
    // The editor's children are text nodes, <br>s and entity spans (one text node each).
    let rest = offset;
    const kids = Array.from(editor.childNodes);
    let target = [editor, kids.length];
    for (let i = 0; i < kids.length; i++) {
      const k = kids[i];
      if (k.nodeName === "BR" && k.getAttribute("data-trail")) { target = [editor, i]; break; }
      const len = leafLen(k);
      if (k.nodeType === 3 && rest <= len) { target = [k, rest]; break; }
      if (k.nodeType !== 3 && rest === 0) { target = [editor, i]; break; }
      if (k.nodeName === "SPAN" && rest < len) { target = [k.firstChild, rest]; break; }
      rest -= len;
      if (rest === 0 && k.nodeType !== 3) { target = [editor, i + 1]; break; }
    }
    const sel = window.getSelection();
    const r = document.createRange();
    r.setStart(target[0], target[1]);
    r.collapse(true);
    sel.removeAllRanges();
    sel.addRange(r);
  }
  function render(caret) {
    editor.textContent = "";
    let pos = 0;
    for (const e of [...entities].sort((a, b) => a.start - b.start)) {
      appendText(editor, text.slice(pos, e.start));
      editor.appendChild(h("span", { class: entityClass[e.type], "data-entity": e.type },
        text.slice(e.start, e.end)));
      pos = e.end;
    }
    appendText(editor, text.slice(pos));
    if (text.endsWith("\n")) editor.appendChild(h("br", { "data-trail": "1" }));
    counter.textContent = text.length + "/" + cfg.caption_limit;
    if (document.activeElement === editor) placeCaret(caret);
  }
  function setText(value, caret) {
    text = value;
    entities = [];
    render(caret);
    closePopover();
  }
  function replace(s, e, str, entity) {
    if (text.length - (e - s) + str.length > cfg.caption_limit) str = str.slice(0, Math.max(0, cfg.caption_limit - text.length + (e - s)));
    const delta = str.length - (e - s);
    entities = entities.filter((en) => !(s < en.end && e > en.start) && !(s === e && s > en.start && s < en.end))
      .map((en) => (en.start >= e ? { ...en, start: en.start + delta, end: en.end + delta } : en));
    text = text.slice(0, s) + str + text.slice(e);
    if (entity) entities.push(entity);
    render(s + str.length);
    updateSuggest(s + str.length);
  }
  function prevCharLen(pos) {
    const c = text.charCodeAt(pos - 1);
    return c >= 0xdc00 && c <= 0xdfff && pos >= 2 ? 2 : 1;
  }
  editor.addEventListener("beforeinput", (ev) => {
    ev.preventDefault();
    const [s, e] = selection();
    switch (ev.inputType) {
      case "insertText":
      case "insertReplacementText":
      case "insertCompositionText":
        replace(s, e, ev.data || (ev.dataTransfer && ev.dataTransfer.getData("text/plain")) || "");
        break;
      case "insertParagraph":
      case "insertLineBreak":
        replace(s, e, "\n");
        break;
      case "insertFromPaste":
      case "insertFromDrop":
        replace(s, e, (ev.dataTransfer && ev.dataTransfer.getData("text/plain")) || "");
        break;
      case "deleteContentBackward":
        if (s !== e) replace(s, e, "");
        else if (s > 0) replace(s - prevCharLen(s), s, "");
        break;
      case "deleteContentForward":
        if (s !== e) replace(s, e, "");
        else if (s < text.length) replace(s, s + 1, "");
        break;
      case "deleteWordBackward": {
        if (s !== e) { replace(s, e, ""); break; }
        const m = /\S*\s*$/.exec(text.slice(0, s));
        replace(s - m[0].length, s, "");
        break;
      }
      default:
        if (ev.inputType.startsWith("delete")) replace(s, e, "");
    }
  });

  // ---- hashtag / mention suggestions ---------------------------------------------------
  let token = null; // {start, end, type, word}
  let items = [];
  let highlighted = 0;
  let suggestSeq = 0;
  function closePopover() { suggestions.hide(); items = []; token = null; }
  function updateSuggest(caret) {
    const before = text.slice(0, caret);
    const m = /(^|\s)([#@])([^\s#@]*)$/.exec(before);
    const inside = entities.some((en) => caret > en.start && caret <= en.end);
    if (!m || !m[3] || inside) { suggestSeq++; closePopover(); return; }
    const start = caret - m[3].length - 1;
    const type = m[2] === "#" ? "hashtag" : "mention";
    const seq = ++suggestSeq;
    token = { start, end: caret, type, word: m[3] };
    fetch("/api/suggest?type=" + type + "&q=" + encodeURIComponent(m[3]))
      .then((r) => r.json())
      .then((res) => {
        if (seq !== suggestSeq) return;
        // the slow variant: the list arrives late, as on a busy connection
        setTimeout(() => {
          if (seq !== suggestSeq) return;
          items = res.items || [];
          highlighted = 0;
          showPopover();
        }, cfg.suggest_delay_ms || 0);
      });
  }
  function showPopover() {
    if (!items.length) { suggestions.hide(); return; }
    suggestions.show(items, highlighted, token.type, (i) => { highlighted = i; choose(); });
  }
  function choose() {
    const it = items[highlighted];
    const tok = token;
    if (!it || !tok) return;
    const sigil = tok.type === "hashtag" ? "#" : "@";
    const label = sigil + it.value;
    closePopover();
    suggestSeq++;
    replace(tok.start, tok.end, label + " ", { start: tok.start, end: tok.start + label.length, type: tok.type, value: it.value });
    closePopover();
  }
  editor.addEventListener("keydown", (ev) => {
    if (!suggestions.open() || !items.length) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      highlighted = (highlighted + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      showPopover();
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      choose();
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      suggestSeq++;
      closePopover();
    }
  });
  editor.addEventListener("focus", () => {
    // focus given back by a script lands the caret at the end, not at the start
    const sel = window.getSelection();
    if (!sel.rangeCount || !editor.contains(sel.anchorNode)) placeCaret(text.length);
  });
  editor.addEventListener("blur", () => { setTimeout(() => { if (document.activeElement !== editor) closePopover(); }, 150); });

  // ---- post -------------------------------------------------------------------------
  function modal(content) {
    const box = h("div", { class: "modal-backdrop" }, h("div", { class: "modal", role: "dialog", "aria-modal": "true" }, content));
    document.body.appendChild(box);
    return box;
  }
  function showCaptcha() {
    if (document.getElementById("captcha_container")) return;
    const verify = h("button", { type: "button", class: "primary verify-captcha" }, "Verify (sandbox: I am a person)");
    const box = h("div", { id: "captcha_container", class: "captcha-verify-container" },
      h("div", { class: "captcha-box" },
        h("h3", {}, "Verify to continue:"),
        h("p", {}, "Drag the puzzle piece into place"),
        h("div", { class: "captcha-puzzle", style: "height:120px;background:#eee;border-radius:4px;margin-bottom:12px" }),
        verify));
    verify.addEventListener("click", () => {
      fetch("/api/captcha/solve", { method: "POST" }).then((r) => { if (r.ok) box.remove(); });
    });
    document.body.appendChild(box);
  }
  function doPost() {
    const body = {
      upload_id: uploadId,
      caption: text,
      text_extra: entities.map((e) => ({ type: e.type, value: e.value, start: e.start, end: e.end })),
      visibility: visibility,
      allow_comment: comment.input.checked,
      allow_duet: duet.input.checked,
      allow_stitch: stitch.input.checked,
      brand_organic: brandOrganic.input.checked,
      brand_content: brandContent.input.checked,
      aigc: aigc.sw.getAttribute("aria-checked") === "true",
      schedule_time: laterRadio.checked ? Math.floor(schedDate().getTime() / 1000) : null,
      split: splitChosen,
    };
    setPostEnabled(false);
    fetch("/api/post", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) })
      .then((r) => r.json().then((res) => [r.status, res]))
      .then(([status, res]) => {
        if (status === 200) {
          modal([h("h2", {}, "Your video has been uploaded"),
            h("p", {}, laterRadio.checked ? "It will be posted at the scheduled time." : "It is being processed and will be posted soon."),
            h("a", { href: "/tiktokstudio/content", class: "manage-posts" }, "Manage your posts")]);
          window.removeEventListener("beforeunload", leavePrompt);
          // inside the Creator Center's iframe the whole tab moves on
          const target = cfg.in_frame ? window.top : window;
          setTimeout(() => { target.location.href = "/tiktokstudio/content"; }, cfg.success_navigate_ms);
          return;
        }
        setPostEnabled(true);
        if (res.status_msg === "captcha_required") showCaptcha();
        else toast("Couldn't post: " + (res.status_msg || status));
      })
      .catch(() => { setPostEnabled(true); toast("Couldn't post: network error"); });
  }
  postBtn.addEventListener("click", () => {
    if (!postEnabled()) return;
    if (laterRadio.checked) {
      const ahead = (schedDate().getTime() - Date.now()) / 1000;
      if (ahead < cfg.min_schedule_s - 60 || ahead > cfg.max_schedule_s) { toast("Schedule at least 15 minutes and at most 10 days ahead"); return; }
    }
    if (has("post_now_confirm")) {
      // the post_now_confirm variant: an alert dialog of its own markup, no aria-modal
      const close = overlay("sheet", { role: "alertdialog", "aria-labelledby": "confirm-title",
        "aria-describedby": "confirm-text" }, [
        h("h2", { id: "confirm-title" }, "Continue to post?"),
        h("p", { id: "confirm-text" }, "We're still checking your video for issues. You can post it now or wait until the check is done."),
        h("div", { class: "sheet__actions" },
          h("button", { type: "button", class: "ghost-button", onclick: () => close() }, "Cancel"),
          h("button", { type: "button", class: "pill-button", onclick: () => { close(); doPost(); } }, "Post now"))], false);
    } else if (cfg.confirm_post_now) {
      const confirmBox = modal([h("h3", {}, "Continue to post?"),
        h("p", {}, "Your video is still being checked. You can post now or wait for the check to finish."),
        h("div", { class: "footer" },
          h("button", { type: "button", class: "primary", onclick: () => { confirmBox.remove(); doPost(); } }, "Post now"),
          h("button", { type: "button", onclick: () => confirmBox.remove() }, "Cancel"))]);
    } else {
      doPost();
    }
  });
  discardBtn.addEventListener("click", () => location.reload());

  // ---- what interrupts the form (variants) -------------------------------------------
  let splitChosen = false;
  function leavePrompt(e) { e.preventDefault(); e.returnValue = ""; }
  function onFormShown() {
    if (!has("known_interrupters")) return;
    // known_interrupters: a leave-page prompt while a file is on the form, and a tour
    window.addEventListener("beforeunload", leavePrompt);
    const step = h("p", { class: "tour__text" }, "Add a caption, hashtags and mentions here.");
    const count = h("span", { class: "tour__count" }, "1/2");
    const next = h("button", { type: "button", class: "pill-button" }, "Next");
    const close = overlay("tour-mask", { class: "overlay-dialog tour", role: "dialog", "aria-label": "Product tour" },
      [h("h3", {}, "New upload tools"), step,
        h("div", { class: "tour__actions" }, count,
          h("button", { type: "button", class: "ghost-button", onclick: () => close() }, "Skip"), next)], false);
    next.addEventListener("click", () => {
      if (next.textContent === "Got it") { close(); return; }
      step.textContent = "Choose who can watch and when your video is posted.";
      count.textContent = "2/2";
      next.textContent = "Got it";
    });
  }
  function onUploaded() {
    if (has("split_prompt") && !onUploaded.split) {
      onUploaded.split = true;
      const close = overlay("split-mask", { role: "dialog", "aria-modal": "true", "aria-labelledby": "split-title" }, [
        h("h2", { id: "split-title" }, "Split your video into parts?"),
        h("p", {}, "Videos longer than 60 seconds can be split into parts that viewers watch in order."),
        h("div", { class: "sheet__actions" },
          h("button", { type: "button", class: "ghost-button", onclick: () => close() }, h("div", {}, "Not now")),
          h("button", { type: "button", class: "pill-button", onclick: () => { splitChosen = true; close(); } },
            h("div", {}, "Split")))], false);
    }
    if (has("known_interrupters") && !onUploaded.feature) {
      onUploaded.feature = true;
      const close = overlay("feature-mask", { role: "dialog", "aria-modal": "true", "aria-labelledby": "feature-title" }, [
        h("h3", { id: "feature-title" }, "Introducing auto-save"),
        h("p", {}, "Your edits are saved as drafts while you work."),
        h("button", { type: "button", class: "pill-button", onclick: () => close() }, "Got it")], false);
    }
    if (has("unknown_modal") && !onUploaded.survey) {
      onUploaded.survey = true;
      // unknown_modal: nobody declared this one; it takes the whole page until dismissed
      const close = overlay("survey-mask inert-page", { role: "dialog", "aria-modal": "true", "aria-labelledby": "survey-title" }, [
        h("button", { type: "button", class: "close-x", "aria-label": "Close", onclick: () => close() }, "×"),
        h("h2", { id: "survey-title" }, "Help us improve TikTok Studio"),
        h("p", {}, "How was your upload experience? Tell us in a two-minute survey."),
        h("button", { type: "button", class: "pill-button", onclick: () => { close(); toast("Thanks for your feedback"); } },
          "Take survey")], true);
    }
  }
  if (has("known_interrupters")) {
    // a content-check prompt the first time the caption gets focus (typing goes on under it)
    editor.addEventListener("focus", function once() {
      editor.removeEventListener("focus", once);
      setTimeout(() => {
        const close = overlay("check-mask", { role: "dialog", "aria-modal": "true", "aria-labelledby": "check-title" }, [
          h("h3", { id: "check-title" }, "Turn on automatic content checks?"),
          h("p", {}, "We'll check your video for copyright issues before it's posted."),
          h("div", { class: "sheet__actions" },
            h("button", { type: "button", class: "ghost-button", onclick: () => close() }, "Not now"),
            h("button", { type: "button", class: "pill-button", onclick: () => close() }, "Turn on"))], false);
      }, 0);
    });
  }

  // ---- mount (later on the slow variant: the app's bundle takes a while) ---------------
  function mount() {
    root.textContent = "";
    root.appendChild(header);
    root.appendChild(main);
    if (fileArea.outside) document.body.appendChild(fileArea.outside);
    showCookieBanner();
    if (cfg.interstitial) {
      modal([h("h3", {}, cfg.interstitial), h("p", {}, "Please review before continuing.")]);
    }
    if (cfg.captcha) showCaptcha();
  }
  if (cfg.render_delay_ms > 0) {
    root.appendChild(h("div", { class: "boot-spinner", role: "progressbar", "aria-label": "Loading" }));
    setTimeout(mount, cfg.render_delay_ms);
  } else {
    mount();
  }
})();
