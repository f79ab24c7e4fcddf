// The lesson beside the workbench: pick a shipped lesson, start its lab, read a step, load its
// prepared packet or experiment with one click, and watch its checks pass live (each with the
// log rows that show it) or say why not yet. Stays open while the student uses the other panels.
import { useEffect } from 'react';
import type { Lesson, LessonCheckVerdict } from '../../../common/contract';
import { useOpenInLog } from '../components/open-in-log';
import { formatClock } from '../model/format';
import { useWorkbench } from '../store';
import { lessonProgress } from '../store/lesson';
import './lesson.css';

type Prepare = NonNullable<Lesson['steps'][number]['prepare']>;
const loadWords: Record<Prepare['method'], string> = {
  send: 'Load the packet',
  ping: 'Load the ping',
  traceroute: 'Load the traceroute',
  mtr: 'Load the mtr run',
  pmtu: 'Load the path MTU discovery',
};
/** Evidence links shown per check; the rest are counted. */
const EVIDENCE_SHOWN = 5;

export function LessonPane() {
  const list = useWorkbench((s) => s.lesson.list);
  const name = useWorkbench((s) => s.lesson.name);
  const current = useWorkbench((s) => s.lesson.current);
  const verdict = useWorkbench((s) => s.lesson.verdict);
  const error = useWorkbench((s) => s.lesson.error);
  const load = useWorkbench((s) => s.lesson.load);
  const choose = useWorkbench((s) => s.lesson.choose);
  const setOpen = useWorkbench((s) => s.lesson.setOpen);
  const logChanged = useWorkbench((s) => s.lesson.logChanged);
  const loadLab = useWorkbench((s) => s.lab.load);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const logVersion = useWorkbench((s) => s.log.version);

  useEffect(() => {
    if (!online) return;
    void load();
    void loadLab();
  }, [online, load, loadLab]);
  // New rows (or a cleared log): the checks are judged again, throttled in the store.
  useEffect(() => logChanged(), [logVersion, logChanged]);

  const summary = list.find((entry) => entry.name === name);
  return (
    <aside id="lesson-pane" className="lesson-pane" aria-label="Lesson">
      <div className="toolbar">
        <label className="inline lesson-choice">
          <span>Lesson</span>
          <select aria-label="Lesson" value={name} disabled={list.length === 0} onChange={(event) => void choose(event.target.value)}>
            <option value="">{list.length === 0 ? '(reading…)' : 'Choose a lesson'}</option>
            {list.map((entry) => (
              <option key={entry.name} value={entry.name}>
                {entry.title}
              </option>
            ))}
          </select>
        </label>
        <button type="button" aria-label="Close the lesson pane" title="Close the lesson pane (the lesson and its progress stay)" onClick={() => setOpen(false)}>
          ✕
        </button>
      </div>
      {error && (
        <div className="field-error pad" role="alert">
          {error}
        </div>
      )}
      <div className="lesson-body">
        {!name && (
          <div className="pad">
            <p>A lesson walks you through an experiment in a lab and checks, as you go, that the packets it asks for were seen.</p>
            <ul className="lesson-list">
              {list.map((entry) => (
                <li key={entry.name}>
                  <button type="button" className="link" onClick={() => void choose(entry.name)}>
                    {entry.title}
                  </button>
                  <span className="muted"> · {entry.summary}</span>
                </li>
              ))}
            </ul>
          </div>
        )}
        {name && !current && !error && <p className="pad muted">Reading {summary?.title ?? name}…</p>}
        {current && <LessonView lesson={current} verdictSteps={verdict?.lesson === current.name ? verdict.steps : undefined} />}
      </div>
    </aside>
  );
}

function LessonView({ lesson, verdictSteps }: { lesson: Lesson; verdictSteps?: Array<{ title: string; checks: LessonCheckVerdict[] }> }) {
  const step = useWorkbench((s) => s.lesson.step);
  const setStep = useWorkbench((s) => s.lesson.setStep);
  const verdict = useWorkbench((s) => s.lesson.verdict);
  const { passed, total } = lessonProgress(verdict?.lesson === lesson.name ? verdict : null);
  const shown = lesson.steps[step] ?? lesson.steps[0];
  const index = lesson.steps.indexOf(shown);
  return (
    <>
      <div className="pad lesson-head">
        <h2 className="lesson-title">{lesson.title}</h2>
        {lesson.summary && <p className="muted">{lesson.summary}</p>}
        <LessonLab lesson={lesson} />
        <div className="lesson-progress">
          <progress max={Math.max(1, total)} value={passed} aria-label="Checks passed" />
          <span role="status" aria-label="Lesson progress" className={total > 0 && passed === total ? 'ok-text' : undefined}>
            {verdictSteps ? `${passed} of ${total} checks passed${passed === total ? ': lesson complete' : ''}` : 'Checking…'}
          </span>
        </div>
        <nav aria-label="Steps">
          <ol className="lesson-steps">
            {lesson.steps.map((candidate, i) => {
              const checks = verdictSteps?.[i]?.checks ?? [];
              const done = checks.length > 0 && checks.every((check) => check.passed);
              return (
                <li key={i}>
                  <button type="button" className={`lesson-step-link${i === index ? ' current' : ''}`} aria-current={i === index ? 'step' : undefined} onClick={() => setStep(i)}>
                    <span aria-hidden="true">{done ? '✓' : `${i + 1}.`}</span> {candidate.title}
                    <span className="muted">
                      {' '}
                      ({checks.filter((check) => check.passed).length}/{candidate.checks.length})
                    </span>
                    {done && <span className="sr-only">, done</span>}
                  </button>
                </li>
              );
            })}
          </ol>
        </nav>
      </div>
      <LessonStep lesson={lesson} index={index} checks={verdictSteps?.[index]?.checks} />
    </>
  );
}

/** The lab the lesson runs in: start it here, or say what is in the way. */
function LessonLab({ lesson }: { lesson: Lesson }) {
  const info = useWorkbench((s) => s.lab.info);
  const busy = useWorkbench((s) => s.lab.busy);
  const labError = useWorkbench((s) => s.lab.error);
  const host = useWorkbench((s) => s.lab.host);
  const setTopology = useWorkbench((s) => s.lab.setTopology);
  const start = useWorkbench((s) => s.lab.start);
  const setHost = useWorkbench((s) => s.lab.setHost);
  const showPanel = useWorkbench((s) => s.settings.showPanel);
  const online = useWorkbench((s) => s.settings.connection === 'open');
  const wanted = lesson.steps.find((step) => step.prepare?.host)?.prepare?.host;
  const ours = info.topology === lesson.topology;

  let body;
  if (info.state === 'up' && ours) {
    body = (
      <>
        <span className="ok-text">The {lesson.topology} lab is up</span>
        {' · '}
        {host ? `acting from ${host}` : 'acting from this machine'}
        {wanted && host !== wanted && (
          <button type="button" onClick={() => setHost(wanted)}>
            Act from {wanted}
          </button>
        )}
      </>
    );
  } else if ((info.state === 'starting' || info.state === 'stopping') && ours) {
    body = <span className="warn-text">The {lesson.topology} lab is {info.state}…</span>;
  } else if (info.state !== 'down' && info.state !== 'failed') {
    body = (
      <>
        The {info.topology} lab is {info.state}; this lesson runs in {lesson.topology}.{' '}
        <button type="button" onClick={() => showPanel('lab')}>
          Open the Lab panel
        </button>
      </>
    );
  } else {
    body = (
      <>
        This lesson runs in the {lesson.topology} lab{info.state === 'failed' && ours ? ', which failed to start' : ''}.{' '}
        <button
          type="button"
          className="primary"
          disabled={!online || busy}
          onClick={() => {
            setTopology(lesson.topology);
            void start();
          }}
        >
          Start the lab
        </button>
      </>
    );
  }
  return (
    <div className="lesson-lab" role="group" aria-label="Lesson lab">
      <p>{body}</p>
      {labError && (
        <p className="field-error" role="alert">
          {labError.code ? <strong>{labError.code}: </strong> : null}
          {labError.message}
        </p>
      )}
      {info.state === 'failed' && ours && info.error && (
        <p className="field-error" role="alert">
          <strong>{info.error.code}: </strong>
          {info.error.message}
        </p>
      )}
    </div>
  );
}

function LessonStep({ lesson, index, checks }: { lesson: Lesson; index: number; checks?: LessonCheckVerdict[] }) {
  const step = lesson.steps[index];
  const setStep = useWorkbench((s) => s.lesson.setStep);
  const loadPrepared = useWorkbench((s) => s.lesson.loadPrepared);
  const loaded = useWorkbench((s) => s.lesson.loaded);
  const check = useWorkbench((s) => s.lesson.check);
  const checking = useWorkbench((s) => s.lesson.checking);
  const checkedAt = useWorkbench((s) => s.lesson.checkedAt);
  const heading = `Step ${index + 1} of ${lesson.steps.length}: ${step.title}`;
  return (
    <section className="pad lesson-step" aria-label={heading}>
      <h3>{heading}</h3>
      <p className="lesson-text">{step.text}</p>
      {step.prepare && (
        <div className="lesson-load">
          <button type="button" className="primary" onClick={() => loadPrepared(index)}>
            {loadWords[step.prepare.method]}
          </button>
          {loaded && (
            <span role="status" aria-label="Loaded" className="muted">
              {loaded}
            </span>
          )}
        </div>
      )}
      <h4>Checks</h4>
      <ul className="lesson-checks" aria-label="Checks">
        {step.checks.map((definition) => {
          const verdict = checks?.find((candidate) => candidate.id === definition.id);
          return <CheckView key={definition.id} text={definition.text} verdict={verdict} />;
        })}
      </ul>
      <div className="toolbar wrap">
        <button type="button" disabled={index === 0} onClick={() => setStep(index - 1)}>
          Previous step
        </button>
        <button type="button" disabled={index >= lesson.steps.length - 1} onClick={() => setStep(index + 1)}>
          Next step
        </button>
        <span className="separator" />
        <button type="button" disabled={checking} onClick={() => void check()}>
          Check now
        </button>
        {checkedAt && <span className="muted">checked {formatClock(checkedAt).slice(0, 8)}</span>}
      </div>
    </section>
  );
}

function CheckView({ text, verdict }: { text: string; verdict?: LessonCheckVerdict }) {
  const openInLog = useOpenInLog();
  const passed = verdict?.passed === true;
  const evidence = verdict?.evidence ?? [];
  return (
    <li className={`lesson-check${passed ? ' passed' : ''}`} aria-label={text}>
      <span className={`lesson-mark ${passed ? 'ok-text' : 'muted'}`}>{passed ? '✓ Passed' : verdict ? '○ Not yet' : '… Checking'}</span>
      <span className="lesson-check-text">{text}</span>
      {!passed && verdict?.reason && <span className="lesson-reason muted">{verdict.reason}</span>}
      {evidence.length > 0 && (
        <span className="lesson-evidence">
          {passed ? 'Evidence:' : 'Nearest:'}{' '}
          {evidence.slice(0, EVIDENCE_SHOWN).map((id) => (
            <button key={id} type="button" className="link" aria-label={`Open #${id} in the log`} onClick={() => openInLog(id)}>
              #{id}
            </button>
          ))}
          {evidence.length > EVIDENCE_SHOWN && <span className="muted"> and {evidence.length - EVIDENCE_SHOWN} more</span>}
        </span>
      )}
    </li>
  );
}
