// The two streams every shard holds, created or brought up to date idempotently. Several proxies may
// ensure them at the same moment: JetStream accepts a create whose config equals the existing stream's,
// and a create that differs fails with "stream name already in use", which becomes an update.
import {
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import {
  MESSAGES_STREAM,
  REPUBLISH_DESTINATION,
  RETAINED_STREAM,
  RETAINED_SUBJECTS,
  STORED_SUBJECTS,
} from './nats-names.js';

/** JetStream error code: a stream with this name exists with a different configuration. */
const STREAM_NAME_IN_USE = 10058;
/** Attempts before a create/update race is reported as an error. */
const MAX_ATTEMPTS = 3;

export interface StreamOptions {
  /** Offline retention of SHOAL_MSGS: the oldest message kept. */
  readonly messageMaxAgeSeconds: number;
  /** Offline retention of SHOAL_MSGS: bytes kept on the shard. */
  readonly messageMaxBytes: number;
  /** De-duplication window of `Nats-Msg-Id` in SHOAL_MSGS. */
  readonly duplicateWindowSeconds: number;
  /** 1, or 3 for a clustered shard. */
  readonly replicas: number;
}

type DesiredConfig = Partial<StreamConfig> & Pick<StreamConfig, 'name' | 'subjects'>;

/** SHOAL_MSGS: every stored message, re-published to the live subjects with its sequence. */
export function messagesStreamConfig(options: StreamOptions): DesiredConfig {
  return {
    name: MESSAGES_STREAM,
    description: 'Shoal: QoS 1/2 MQTT messages, kept for offline sessions',
    subjects: [STORED_SUBJECTS],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_age: nanos(options.messageMaxAgeSeconds * 1_000),
    max_bytes: options.messageMaxBytes,
    duplicate_window: nanos(options.duplicateWindowSeconds * 1_000),
    num_replicas: options.replicas,
    allow_direct: true,
    republish: { src: STORED_SUBJECTS, dest: REPUBLISH_DESTINATION },
  };
}

/** SHOAL_RETAINED: the retained message of each subject, one per subject. */
export function retainedStreamConfig(options: StreamOptions): DesiredConfig {
  return {
    name: RETAINED_STREAM,
    description: 'Shoal: MQTT retained messages, one per topic',
    subjects: [RETAINED_SUBJECTS],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    max_msgs_per_subject: 1,
    num_replicas: options.replicas,
    allow_direct: true,
  };
}

function isNameInUse(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === STREAM_NAME_IN_USE;
}

/** Creates the stream, or updates it when it exists with another configuration. */
export async function ensureStream(jsm: JetStreamManager, desired: DesiredConfig): Promise<StreamInfo> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await jsm.streams.add({ ...desired });
    } catch (error) {
      if (!isNameInUse(error) || attempt >= MAX_ATTEMPTS) throw error;
    }
    try {
      const { name, ...update } = desired;
      return await jsm.streams.update(name, update);
    } catch (error) {
      // Another proxy may have deleted and re-created it between our calls; try again from the top.
      if (attempt >= MAX_ATTEMPTS) throw error;
    }
  }
}

/** Ensures SHOAL_MSGS and SHOAL_RETAINED on the shard `jsm` talks to. Safe to run concurrently. */
export async function ensureStreams(jsm: JetStreamManager, options: StreamOptions): Promise<void> {
  await Promise.all([
    ensureStream(jsm, messagesStreamConfig(options)),
    ensureStream(jsm, retainedStreamConfig(options)),
  ]);
}
