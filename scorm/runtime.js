/*
 * capacity_lti learner-side runtime, shipped as capacity/runtime.js inside every package.
 *
 * Plain ES2017, no dependencies, no build step. It implements "Runtime behaviour" in
 * docs/packaging.md: it finds the LMS's SCORM API, tracks which blocks the learner has seen,
 * grades the knowledge check, reports status, score and interactions, keeps a compact
 * suspend_data for resuming, and commits only on pagehide, when the page is hidden, and every
 * 60 s while something changed. Without an LMS the page shows a banner and works as a plain page.
 */
(function () {
  'use strict';

  var MAX_PARENTS = 10; // frames walked up from this window, then from the opener
  var COMMIT_EVERY_MS = 60000;
  var CHOICE_LETTERS = 'abcdefghijklmnopqrstuvwxyz0123456789'; // SCORM 1.2 single characters

  // ---------------------------------------------------------------- the LMS

  function findIn(win, name) {
    for (var level = 0; win && level <= MAX_PARENTS; level++) {
      try {
        if (win[name]) return win[name];
      } catch (e) {
        // a cross-origin frame: keep climbing
      }
      if (!win.parent || win.parent === win) break;
      win = win.parent;
    }
    return null;
  }

  function findApi(name) {
    var api = findIn(window, name);
    if (!api && window.opener) api = findIn(window.opener, name);
    return api;
  }

  var ELEMENTS = {
    scorm12: {
      api: 'API', init: 'LMSInitialize', get: 'LMSGetValue', set: 'LMSSetValue',
      commit: 'LMSCommit', finish: 'LMSFinish', error: 'LMSGetLastError',
      name: 'cmi.core.student_name', status: 'cmi.core.lesson_status', exit: 'cmi.core.exit',
      session: 'cmi.core.session_time', score: 'cmi.core.score.', mastery: 'cmi.student_data.mastery_score'
    },
    scorm2004: {
      api: 'API_1484_11', init: 'Initialize', get: 'GetValue', set: 'SetValue',
      commit: 'Commit', finish: 'Terminate', error: 'GetLastError',
      name: 'cmi.learner_name', status: 'cmi.completion_status', exit: 'cmi.exit',
      session: 'cmi.session_time', score: 'cmi.score.', mastery: null
    }
  };

  /* An initialised connection to the LMS, or null. Values are written only when they change. */
  function connect(standard) {
    var names = ELEMENTS[standard];
    if (!names) return null;
    var api = findApi(names.api);
    if (!api) return null;
    var call = function (fn) {
      try {
        return String(api[names[fn]].apply(api, Array.prototype.slice.call(arguments, 1)));
      } catch (e) {
        return '';
      }
    };
    if (call('init', '') !== 'true') return null;
    var written = {};
    var lms = {
      names: names,
      dirty: false,
      get: function (element) { return call('get', element); },
      set: function (element, value) {
        value = String(value);
        if (written[element] === value) return;
        written[element] = value;
        lms.dirty = true;
        if (call('set', element, value) !== 'true' && window.console) {
          window.console.warn('capacity runtime: ' + names.set + '(' + element + ', ' + value + ') failed, error ' + call('error'));
        }
      },
      commit: function () {
        lms.dirty = false;
        return call('commit', '') === 'true';
      },
      finish: function () { return call('finish', '') === 'true'; }
    };
    return lms;
  }

  // ---------------------------------------------------------------- formats

  function byNumber(a, b) {
    return a - b;
  }

  function pad(number, width) {
    return String(number).padStart(width, '0');
  }

  /* Session time: SCORM 1.2 HHHH:MM:SS.SS, SCORM 2004 an ISO 8601 duration (PT1H2M3.4S). */
  function sessionTime(ms, standard) {
    var cs = Math.max(0, Math.round(ms / 10));
    var hours = Math.floor(cs / 360000);
    var minutes = Math.floor(cs / 6000) % 60;
    var seconds = Math.floor(cs / 100) % 60;
    var hundredths = cs % 100;
    if (standard === 'scorm2004') {
      return 'PT' + (hours ? hours + 'H' : '') + (minutes ? minutes + 'M' : '') + seconds +
        (hundredths ? '.' + pad(hundredths, 2).replace(/0$/, '') : '') + 'S';
    }
    if (hours > 9999) return '9999:59:59.99';
    return pad(hours, 4) + ':' + pad(minutes, 2) + ':' + pad(seconds, 2) + '.' + pad(hundredths, 2);
  }

  function timestamp(date, standard) {
    var time = pad(date.getHours(), 2) + ':' + pad(date.getMinutes(), 2) + ':' + pad(date.getSeconds(), 2);
    if (standard !== 'scorm2004') return time;
    return date.getFullYear() + '-' + pad(date.getMonth() + 1, 2) + '-' + pad(date.getDate(), 2) + 'T' + time;
  }

  /*
   * suspend_data, version 1: v1|<seen>|<last>|<answers>
   *   seen:    one base-36 digit (0-v) per five blocks, in block order; bit b of digit k is block 5k+b
   *   last:    index of the block the learner was reading, in decimal
   *   answers: empty until the check is submitted; then the last submission, one group per question
   *            joined by '.', each the chosen choice letters (a = choice 0) or '-' for none
   */
  function encode(state) {
    var seen = '';
    for (var i = 0; i < state.seen.length; i += 5) {
      var digit = 0;
      for (var b = 0; b < 5 && i + b < state.seen.length; b++) {
        if (state.seen[i + b]) digit |= 1 << b;
      }
      seen += digit.toString(36);
    }
    var answers = state.answers ? state.answers.map(function (chosen) {
      return chosen.length ? chosen.map(function (c) { return CHOICE_LETTERS[c]; }).join('') : '-';
    }).join('.') : '';
    return 'v1|' + seen + '|' + state.last + '|' + answers;
  }

  function decode(text, blockCount, questions, choiceCounts) {
    var parts = String(text || '').split('|');
    if (parts.length !== 4 || parts[0] !== 'v1') return null;
    var state = { seen: [], last: 0, answers: null };
    for (var i = 0; i < blockCount; i++) {
      var digit = parseInt(parts[1].charAt(Math.floor(i / 5)) || '0', 36);
      state.seen.push(!isNaN(digit) && (digit & (1 << (i % 5))) !== 0);
    }
    var last = parseInt(parts[2], 10);
    state.last = last >= 0 && last < blockCount ? last : 0;
    if (parts[3] && questions) {
      var groups = parts[3].split('.');
      if (groups.length === questions.length) {
        state.answers = groups.map(function (group) {
          if (group === '-') return [];
          return group.split('').map(function (letter) { return CHOICE_LETTERS.indexOf(letter); });
        });
        var valid = state.answers.every(function (chosen, q) {
          return chosen.every(function (c) { return c >= 0 && c < choiceCounts[q]; });
        });
        if (!valid) state.answers = null;
      }
    }
    return state;
  }

  function fill(template, values) {
    return String(template || '').replace(/\{(\w+)\}/g, function (match, key) {
      return key in values ? String(values[key]) : match;
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  // ---------------------------------------------------------------- a module page

  function runModule(data) {
    var ui = data.ui || {};
    var standard = data.standard;
    var sections = (data.blocks || []).map(function (id) {
      return document.querySelector('section[data-block="' + CSS.escape(id) + '"]');
    });
    var check = data.check && data.check.questions && data.check.questions.length ? data.check : null;
    var questions = check ? check.questions : [];
    var form = check ? document.getElementById('capacity-check') : null;
    var fieldsets = questions.map(function (q) {
      return form ? form.querySelector('fieldset[data-question="' + CSS.escape(q.id) + '"]') : null;
    });
    var choiceCounts = fieldsets.map(function (fs) {
      return fs ? fs.querySelectorAll('input').length : 0;
    });

    var lms = connect(standard);
    var started = Date.now();
    var state = { seen: sections.map(function () { return false; }), last: 0, answers: null };
    var initialDone = false;
    var mastery = typeof data.mastery === 'number' ? data.mastery : 70;

    // The status area after the check (or the last block): progress, outcome, certificate, saved.
    var status = element('div', 'capacity-status');
    var progressLine = element('p', 'capacity-progress');
    var doneLine = element('p', 'capacity-done');
    var savedLine = element('p', 'capacity-saved');
    doneLine.setAttribute('role', 'status');
    savedLine.setAttribute('aria-live', 'polite');
    status.appendChild(progressLine);
    status.appendChild(doneLine);
    status.appendChild(savedLine);
    var resultLine = element('p', 'capacity-result'); // inside the check form, after its button
    var anchor = form || sections[sections.length - 1];
    if (anchor && anchor.parentNode) anchor.parentNode.insertBefore(status, anchor.nextSibling);
    else document.body.appendChild(status);

    if (!lms) {
      var banner = element('p', 'capacity-banner', ui.no_lms);
      banner.setAttribute('role', 'note');
      document.body.insertBefore(banner, document.body.firstChild);
    } else {
      var previous = decode(lms.get('cmi.suspend_data'), sections.length, questions, choiceCounts);
      if (previous) state = previous;
      var before = lms.get(lms.names.status);
      initialDone = standard === 'scorm2004'
        ? before === 'completed' && lms.get('cmi.success_status') !== 'failed'
        : before === 'passed' || before === 'completed';
      var lmsMastery = lms.names.mastery ? parseFloat(lms.get(lms.names.mastery)) : NaN;
      if (check && !isNaN(lmsMastery)) mastery = lmsMastery;
    }
    sections.forEach(function (section, i) {
      if (!section) state.seen[i] = true; // a block missing from the page cannot hold completion back
    });

    function grade(answers) {
      var results = questions.map(function (q, i) {
        var chosen = answers[i].slice().sort(byNumber);
        var correct = q.correct.slice().sort(byNumber);
        return chosen.length === correct.length && chosen.every(function (c, k) { return c === correct[k]; });
      });
      var right = results.filter(Boolean).length;
      var percent = Math.round(100 * right / questions.length);
      return { results: results, right: right, percent: percent, passed: percent >= mastery };
    }

    function outcome() {
      var seenAll = state.seen.every(Boolean);
      var graded = check && state.answers ? grade(state.answers) : null;
      return {
        seenAll: seenAll,
        graded: graded,
        done: seenAll && (!check || (graded !== null && graded.passed))
      };
    }

    // ------------------------------------------------------------ reporting

    function report() {
      var o = outcome();
      renderStatus(o);
      if (!lms) return;
      lms.set('cmi.suspend_data', encode(state));
      if (initialDone && !o.done) return; // reopening a finished module never lowers its result
      var score = null;
      if (check ? o.graded !== null : o.seenAll) score = o.done ? 100 : 0;
      if (standard === 'scorm2004') {
        lms.set('cmi.completion_status', o.seenAll ? 'completed' : 'incomplete');
        if (o.graded) lms.set('cmi.success_status', o.graded.passed ? 'passed' : 'failed');
        var seenCount = state.seen.filter(Boolean).length;
        lms.set('cmi.progress_measure', sections.length ? Math.floor(100 * seenCount / sections.length) / 100 : 1);
        if (score !== null) lms.set('cmi.score.scaled', score / 100);
      } else {
        var lessonStatus = 'incomplete';
        if (o.done) lessonStatus = check ? 'passed' : 'completed';
        else if (o.graded && !o.graded.passed) lessonStatus = 'failed';
        lms.set('cmi.core.lesson_status', lessonStatus);
      }
      if (score !== null) {
        lms.set(lms.names.score + 'raw', score);
        lms.set(lms.names.score + 'min', 0);
        lms.set(lms.names.score + 'max', 100);
      }
      lms.set(lms.names.exit, o.done ? (standard === 'scorm2004' ? 'normal' : '') : 'suspend');
    }

    function recordInteractions(graded) {
      var is2004 = standard === 'scorm2004';
      var join = is2004 ? '[,]' : ',';
      var letters = function (list) {
        return list.slice().sort(byNumber).map(function (c) { return CHOICE_LETTERS[c]; }).join(join);
      };
      var now = timestamp(new Date(), standard);
      questions.forEach(function (q, i) {
        var prefix = 'cmi.interactions.' + i + '.';
        lms.set(prefix + 'id', (data.module + '-' + q.id).replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 255));
        lms.set(prefix + 'type', 'choice');
        lms.set(prefix + (is2004 ? 'timestamp' : 'time'), now);
        lms.set(prefix + 'weighting', 1);
        if (is2004 && fieldsets[i]) {
          var legend = fieldsets[i].querySelector('legend');
          if (legend) lms.set(prefix + 'description', legend.textContent.trim().replace(/\s+/g, ' ').slice(0, 250));
        }
        lms.set(prefix + 'correct_responses.0.pattern', letters(q.correct));
        if (state.answers[i].length) lms.set(prefix + (is2004 ? 'learner_response' : 'student_response'), letters(state.answers[i]));
        lms.set(prefix + 'result', graded.results[i] ? 'correct' : (is2004 ? 'incorrect' : 'wrong'));
      });
    }

    function commitIfDirty() {
      if (lms && lms.dirty && lms.commit()) savedLine.textContent = ui.saved || '';
    }

    function finish() {
      if (!lms) return;
      window.clearInterval(timer);
      report();
      lms.set(lms.names.session, sessionTime(Date.now() - started, standard));
      lms.finish();
      lms = null; // once only, and nothing after it
    }

    // ------------------------------------------------------------ the page

    function renderStatus(o) {
      var seenCount = state.seen.filter(Boolean).length;
      progressLine.textContent = ui.progress ? fill(ui.progress, { seen: seenCount, total: sections.length }) : '';
      if (o.done && !doneLine.hasChildNodes()) {
        doneLine.appendChild(document.createTextNode(ui.completed || ''));
        if (data.certificate) {
          var link = element('a', 'capacity-certificate-link', ui.certificate || data.certificate);
          link.href = data.certificate;
          link.target = '_blank';
          link.rel = 'opener'; // the certificate reads the learner's name through this window
          doneLine.appendChild(document.createTextNode(' '));
          doneLine.appendChild(link);
        }
      }
    }

    function markSeen(index) {
      if (state.seen[index] || !sections[index]) return false;
      state.seen[index] = true;
      sections[index].classList.add('capacity-seen');
      return true;
    }

    function watchBlocks() {
      var present = sections.filter(Boolean);
      sections.forEach(function (section, i) {
        if (section && state.seen[i]) section.classList.add('capacity-seen');
      });
      if (!('IntersectionObserver' in window)) {
        sections.forEach(function (s, i) { markSeen(i); });
        report();
        return;
      }
      // A block is seen once at least half of it, or half the viewport, has been in view.
      var thresholds = [];
      for (var t = 0; t <= 20; t++) thresholds.push(t / 20);
      for (var f = 1; f < 5; f++) thresholds.push(f / 100);
      var visible = {};
      var observer = new IntersectionObserver(function (entries) {
        entries.forEach(function (entry) {
          var index = sections.indexOf(entry.target);
          var viewport = entry.rootBounds ? entry.rootBounds.height : window.innerHeight;
          var needed = Math.min(entry.boundingClientRect.height, viewport) / 2;
          visible[index] = entry.isIntersecting && entry.intersectionRect.height >= needed - 1;
        });
        var changed = false;
        var top = -1;
        sections.forEach(function (s, i) {
          if (!visible[i]) return;
          if (top < 0) top = i;
          changed = markSeen(i) || changed;
        });
        if (top >= 0 && top !== state.last) {
          state.last = top;
          changed = true;
        }
        if (changed) report();
      }, { threshold: thresholds });
      present.forEach(function (section) { observer.observe(section); });

      // Navigating to a block (a link to #its-id) counts as seeing it.
      var onHash = function () {
        var target = location.hash && document.getElementById(decodeURIComponent(location.hash.slice(1)));
        var index = -1;
        sections.forEach(function (s, i) { if (s && target && s.contains(target)) index = i; });
        if (index >= 0 && markSeen(index)) {
          state.last = index;
          report();
        }
      };
      window.addEventListener('hashchange', onHash);
      onHash();
    }

    function showGrades(graded) {
      fieldsets.forEach(function (fs, i) {
        if (!fs) return;
        var feedback = fs.querySelector('.capacity-feedback');
        var result = graded ? (graded.results[i] ? 'correct' : 'incorrect') : '';
        fs.setAttribute('data-result', result);
        feedback.setAttribute('data-result', result);
        feedback.textContent = graded ? (questions[i].feedback || {})[result] || '' : '';
      });
      if (graded) {
        var values = { correct: graded.right, total: questions.length, percent: graded.percent, mastery: mastery };
        resultLine.textContent = fill(graded.passed ? ui.passed : ui.failed, values);
        resultLine.setAttribute('data-result', graded.passed ? 'passed' : 'failed');
      }
    }

    function setAnswers(answers) {
      fieldsets.forEach(function (fs, i) {
        if (!fs) return;
        Array.prototype.forEach.call(fs.querySelectorAll('input'), function (input) {
          input.checked = answers[i].indexOf(parseInt(input.value, 10)) >= 0;
        });
      });
    }

    function readAnswers() {
      return fieldsets.map(function (fs) {
        if (!fs) return [];
        return Array.prototype.map.call(fs.querySelectorAll('input:checked'), function (input) {
          return parseInt(input.value, 10);
        }).sort(byNumber);
      });
    }

    function lockForm() {
      Array.prototype.forEach.call(form.querySelectorAll('input, button'), function (control) {
        control.disabled = true;
      });
    }

    if (form) {
      fieldsets.forEach(function (fs, i) {
        if (!fs) return;
        var feedback = element('p', 'capacity-feedback');
        feedback.id = 'capacity-feedback-' + i;
        feedback.setAttribute('aria-live', 'polite');
        fs.appendChild(feedback);
        fs.setAttribute('aria-describedby', feedback.id);
      });
      resultLine.setAttribute('role', 'status');
      resultLine.tabIndex = -1;
      form.appendChild(resultLine);
      if (state.answers) {
        setAnswers(state.answers);
        showGrades(grade(state.answers));
      }
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        state.answers = readAnswers();
        var graded = grade(state.answers);
        showGrades(graded);
        if (lms) recordInteractions(graded);
        report();
        if (graded.passed) {
          lockForm();
          resultLine.focus();
        }
      });
    }

    report();
    if (form && state.answers && grade(state.answers).passed) lockForm();
    if (state.last > 0 && sections[state.last]) {
      // Scroll this document only, not the LMS page around the frame.
      window.scrollTo(0, sections[state.last].getBoundingClientRect().top + window.pageYOffset);
    }
    watchBlocks();

    var timer = lms ? window.setInterval(commitIfDirty, COMMIT_EVERY_MS) : 0;
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'hidden') commitIfDirty();
    });
    window.addEventListener('pagehide', finish);
  }

  // ---------------------------------------------------------------- the certificate page

  function runCertificate(data) {
    var target = document.getElementById('capacity-learner');
    var standards = data && ELEMENTS[data.standard] ? [data.standard] : ['scorm2004', 'scorm12'];
    for (var i = 0; i < standards.length; i++) {
      var names = ELEMENTS[standards[i]];
      var api = findApi(names.api);
      if (!api) continue;
      var name = '';
      try {
        name = String(api[names.get](names.name) || '');
      } catch (e) {
        name = '';
      }
      // SCORM 1.2 LMSs usually give "Last, First": print it as "First Last".
      var parts = name.split(',');
      if (parts.length === 2 && parts[0].trim() && parts[1].trim()) name = parts[1].trim() + ' ' + parts[0].trim();
      if (name) {
        target.textContent = name;
        return;
      }
    }
  }

  // ---------------------------------------------------------------- start

  function start() {
    var data = null;
    var block = document.getElementById('capacity-data');
    if (block) {
      try {
        data = JSON.parse(block.textContent);
      } catch (e) {
        data = null;
      }
    }
    if (data && data.module) runModule(data);
    else if (document.getElementById('capacity-learner')) runCertificate(data);
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
