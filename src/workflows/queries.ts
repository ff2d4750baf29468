/** Queries a client may send to running scans (`stoq status`). */
import { defineQuery } from '@temporalio/workflow';
import type { PayloadProgress, ScanProgress } from './types';

export const SCAN_PROGRESS_QUERY = 'progress';
export const PAYLOAD_PROGRESS_QUERY = 'payloadProgress';

export const scanProgressQuery = defineQuery<ScanProgress>(SCAN_PROGRESS_QUERY);
export const payloadProgressQuery = defineQuery<PayloadProgress>(PAYLOAD_PROGRESS_QUERY);
