// Save as you go: each row of the assessment page is saved on its own, a moment after it is
// changed, and says when. A chosen file is uploaded at once; a cited document is added with the
// row's own Save button. Without this script every Save button saves each row on its own
// (the server keeps a row with a mistake as typed), so nothing depends on it.
(function () {
  "use strict";
  var form = document.getElementById("assessment-form");
  if (!form || !form.hasAttribute("data-autosave") || !window.fetch || !window.FormData) {
    return;
  }
  var token = form.querySelector("input[name=csrfmiddlewaretoken]");
  var pageStatus = document.getElementById("save-status");
  var pending = new Map(); // row → timer
  var unsaved = new Set();

  function text(name) {
    return form.getAttribute("data-" + name) || "";
  }

  function isEvidenceField(element) {
    return /^ev\d+-/.test(element.name || "");
  }

  function rowData(row, withEvidence) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", token.value);
    row.querySelectorAll("input[name], textarea[name], select[name]").forEach(function (element) {
      if (isEvidenceField(element) && !withEvidence) {
        return;
      }
      if (element.type === "checkbox" || element.type === "radio") {
        if (element.checked) {
          data.append(element.name, element.value);
        }
      } else if (element.type === "file") {
        return; // taken when the save was asked for (see save)
      } else {
        data.append(element.name, element.value);
      }
    });
    return data;
  }

  function setStatus(row, message) {
    var status = row.querySelector(".row-status");
    if (status) {
      status.textContent = message;
    }
    if (pageStatus) {
      pageStatus.textContent = row.id.replace(/^leaf-/, "") + ": " + message;
    }
  }

  function showErrors(row, errors) {
    var box = row.querySelector(".row-errors");
    row.classList.toggle("has-error", errors.length > 0);
    if (!box) {
      return;
    }
    box.textContent = "";
    if (errors.length) {
      var p = document.createElement("p");
      p.className = "row-error";
      var strong = document.createElement("strong");
      strong.textContent = text("failed") + ": ";
      p.appendChild(strong);
      p.appendChild(document.createTextNode(errors.join(" ")));
      box.appendChild(p);
    }
  }

  function updateProgress(progress) {
    if (!progress) {
      return;
    }
    var scored = document.querySelector("[data-progress=scored]");
    if (scored) {
      scored.textContent = progress.scored + " / " + progress.leaves;
    }
    var missing = document.querySelector("[data-progress=without_evidence]");
    if (missing) {
      missing.textContent = progress.without_evidence;
    }
    var claimed = document.querySelector("[data-progress=claimed]");
    if (claimed) {
      claimed.textContent = progress.claimed;
    }
    // The lists of leaves behind the counters, each a link to its row.
    Object.keys(progress.lists || {}).forEach(function (name) {
      var codes = progress.lists[name];
      var list = document.querySelector('[data-progress-list="' + name + '"]');
      var details = document.querySelector('[data-progress-details="' + name + '"]');
      var count = document.querySelector('[data-progress-count="' + name + '"]');
      if (list) {
        list.textContent = "";
        codes.forEach(function (code) {
          var item = document.createElement("li");
          var link = document.createElement("a");
          link.href = "#leaf-" + code;
          link.textContent = code;
          item.appendChild(link);
          list.appendChild(item);
        });
      }
      if (details) {
        details.hidden = codes.length === 0;
      }
      if (count) {
        count.textContent = codes.length;
      }
    });
  }

  // One save at a time, in the order asked: kinder to the server, and a row's later save never
  // overtakes its earlier one.
  var queue = Promise.resolve();
  var busy = 0;

  function save(row, withEvidence) {
    clearTimeout(pending.get(row));
    pending.delete(row);
    setStatus(row, text("saving"));
    // A chosen file is taken now and leaves the picker: it must not go a second time with the
    // page. The rest of the row is read when its turn comes, so that it carries what the row
    // shows then (its latest "seen", after an earlier save of the same row).
    var files = [];
    if (withEvidence) {
      row.querySelectorAll("input[type=file]").forEach(function (element) {
        Array.prototype.forEach.call(element.files, function (file) {
          files.push([element.name, file]);
        });
        element.value = "";
      });
    }
    busy += 1;
    form.setAttribute("data-busy", busy);
    queue = queue
      .then(function () {
        var body = rowData(row, withEvidence);
        files.forEach(function (pair) {
          body.append(pair[0], pair[1]);
        });
        return send(row, withEvidence, body);
      })
      .then(function () {
        busy -= 1;
        form.setAttribute("data-busy", busy);
      });
    return queue;
  }

  function send(row, withEvidence, body) {
    return fetch(row.getAttribute("data-save-url"), {
      method: "POST",
      body: body,
      credentials: "same-origin",
      keepalive: !withEvidence,
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (answer) {
          return { ok: response.ok, answer: answer };
        });
      })
      .then(function (result) {
        var answer = result.answer;
        showErrors(row, answer.errors || []);
        // What the row now stands on: what is saved, or nothing after a colleague's save
        // (the next save of the row then replaces theirs, as its message says).
        var seen = row.querySelector("input[name^=seen_]");
        if (seen && typeof answer.seen === "string") {
          seen.value = answer.seen;
        }
        if (!result.ok || !answer.saved) {
          setStatus(row, text("failed"));
          return;
        }
        unsaved.delete(row);
        setStatus(row, text("autosave") + " " + answer.saved_at);
        var list = row.querySelector(".evidence-cell");
        if (list && withEvidence) {
          list.innerHTML = answer.evidence_html;
          row.querySelectorAll("input[name], textarea[name]").forEach(function (element) {
            if (isEvidenceField(element)) {
              element.value = "";
            }
          });
        }
        updateProgress(answer.progress);
      })
      .catch(function () {
        setStatus(row, text("offline"));
      });
  }

  function schedule(row, delay) {
    unsaved.add(row);
    clearTimeout(pending.get(row));
    pending.set(
      row,
      setTimeout(function () {
        save(row, false);
      }, delay)
    );
  }

  form.querySelectorAll("tr[data-save-url]").forEach(function (row) {
    row.addEventListener("change", function (event) {
      var element = event.target;
      if (element.type === "file") {
        if (element.files.length) {
          save(row, true);
        }
      } else if (!isEvidenceField(element)) {
        schedule(row, 300);
      }
    });
    row.addEventListener("input", function (event) {
      if (!isEvidenceField(event.target) && event.target.type !== "checkbox") {
        schedule(row, 2000);
      }
    });
    var button = row.querySelector("button[name=save]");
    if (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        save(row, true);
      });
    }
  });

  // Removing an evidence asks first; the page (every row) is saved before it is removed.
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=remove]");
    if (!button) {
      return;
    }
    if (!window.confirm(button.getAttribute("data-confirm"))) {
      event.preventDefault();
      return;
    }
    var confirmed = document.createElement("input");
    confirmed.type = "hidden";
    confirmed.name = "remove_confirmed";
    confirmed.value = "1";
    form.appendChild(confirmed);
  });

  // Saving the whole page waits for the saves under way, then goes.
  var draining = false;
  form.addEventListener("submit", function (event) {
    if (busy && !draining) {
      event.preventDefault();
      var submitter = event.submitter;
      queue.then(function () {
        draining = true;
        form.requestSubmit(submitter);
      });
      return;
    }
    pending.forEach(function (timer) {
      clearTimeout(timer);
    });
    pending.clear();
    unsaved.clear();
  });

  window.addEventListener("beforeunload", function (event) {
    if (unsaved.size) {
      unsaved.forEach(function (row) {
        save(row, false);
      });
      event.preventDefault();
      event.returnValue = "";
    }
  });
})();
