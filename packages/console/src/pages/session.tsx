/** One session: who, where, since when, how much; its own traffic graph; disconnect. */
import { useEffect } from 'preact/hooks';
import { ApiError } from '../api.js';
import { Chart } from '../components/chart.js';
import { ConfirmButton, errorText } from '../components/confirm.js';
import { useApp, useLiveVersion, useLoad } from '../hooks.js';
import { href } from '../route.js';
import { age, bitRateBps, bytes } from '../units.js';

export function Session({ id }: { id: string }) {
  const { api, live } = useApp();
  const version = useLiveVersion();
  const { data, error } = useLoad(() => api.session(id), [api, id], 5000);
  const key = `session:${id}:bits`;
  useEffect(() => {
    if (data) live.seed(key, data.history);
  }, [data === undefined]);
  const now = live.last?.sessions[id] ?? (data ? { rxBps: data.rxBps, txBps: data.txBps } : undefined);
  // The broker no longer knows it (the details shown are the last ones it gave).
  const ended = error instanceof ApiError && error.status === 404;

  return (
    <main id="main" tabIndex={-1}>
      <p class="crumbs">
        <a href={href.overview()}>Overview</a> › {data ? <a href={href.segment(data.segment)}>{data.segment}</a> : 'segment'} › session
      </p>
      <h1>
        Session {data ? `${data.user}/${data.device}` : <span class="mono">{id}</span>}
      </h1>
      {error !== undefined && !ended && (
        <p class="error" role="alert">
          {errorText(error)}
        </p>
      )}
      {ended && (
        <p class="muted" role="status">
          This session has ended{data ? '' : ' (or never existed)'}.
        </p>
      )}
      {data && (
        <>
          <dl class="facts">
            <dt>User</dt>
            <dd>{data.user}</dd>
            <dt>Device</dt>
            <dd>{data.device}</dd>
            <dt>Segment</dt>
            <dd>
              <a href={href.segment(data.segment)}>{data.segment}</a>
            </dd>
            <dt>Node</dt>
            <dd class="mono">{data.node}</dd>
            <dt>Addresses</dt>
            <dd class="mono">{data.addresses.join(', ')}</dd>
            {data.mac && (
              <>
                <dt>MAC</dt>
                <dd class="mono">{data.mac}</dd>
              </>
            )}
            <dt>Since</dt>
            <dd>
              <time dateTime={data.since}>{new Date(data.since).toLocaleString()}</time> ({age(data.since)})
            </dd>
            <dt>Bytes in / out</dt>
            <dd>
              {bytes(data.rxBytes)} / {bytes(data.txBytes)}
            </dd>
            <dt>Now in / out</dt>
            <dd>{now ? `${bitRateBps(now.rxBps * 8)} / ${bitRateBps(now.txBps * 8)}` : '–'}</dd>
          </dl>
          <Chart id={key} title="Traffic" series={live.series.peek(key)} format={bitRateBps} version={version} height={220} />
          <ConfirmButton
            label="Disconnect"
            name={`Disconnect ${data.user}/${data.device}`}
            danger
            question={
              <>
                Disconnect the session of <strong>{data.user}</strong> on <strong>{data.device}</strong>? Its client gets <code>bye</code>.
              </>
            }
            action={() => api.disconnect(id)}
            done={() => (location.hash = href.segment(data.segment))}
          />
        </>
      )}
    </main>
  );
}
