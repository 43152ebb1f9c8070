import { describe, expect, it } from 'vitest';
import { API_REGISTRY } from '../../../../protocol/messages/index.js';
import {
  OffsetForLeaderEpochRequest,
  OffsetForLeaderEpochResponse,
} from '../../../../protocol/messages/offset-for-leader-epoch.js';
import { decodeMessage, encodeMessage } from '../../../../protocol/wire/codec.js';
import type { MessageValue } from '../../../../protocol/wire/schema.js';
import { roundTripEveryVersion } from '../../../helpers/schema-arbitrary.js';

type Request = MessageValue<typeof OffsetForLeaderEpochRequest>;

const request: Request = {
  replicaId: -1,
  topics: [{ topic: 't1', partitions: [{ partition: 0, currentLeaderEpoch: 5, leaderEpoch: 4 }] }],
};

describe('OffsetForLeaderEpoch', () => {
  roundTripEveryVersion([OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse]);

  it('is registered under api key 23', () => {
    const api = API_REGISTRY.get(23);
    expect(api?.name).toBe('OffsetForLeaderEpoch');
    expect(api?.request).toBe(OffsetForLeaderEpochRequest);
    expect(api?.response).toBe(OffsetForLeaderEpochResponse);
  });

  it('encodes a v4 (flexible) request byte for byte', () => {
    // Worked out by hand from the protocol spec, not by running the encoder:
    //   ff ff ff ff   replicaId int32 = -1
    //   02            topics: compact array, length 1 (uvarint N+1)
    //   03 74 31      topic: compact string "t1" (uvarint N+1, then UTF-8)
    //   02            partitions: compact array, length 1
    //   00 00 00 00   partition int32 = 0
    //   00 00 00 05   currentLeaderEpoch int32 = 5
    //   00 00 00 04   leaderEpoch int32 = 4
    //   00            partition's tagged fields: none
    //   00            topic's tagged fields: none
    //   00            request's tagged fields: none
    const expected =
      'ffffffff' + '02' + '037431' + '02' + '00000000' + '00000005' + '00000004' + '00' + '00' + '00';
    const encoded = encodeMessage(OffsetForLeaderEpochRequest, 4, request);
    expect(encoded.toString('hex')).toBe(expected);
    expect(decodeMessage(OffsetForLeaderEpochRequest, 4, Buffer.from(expected, 'hex'))).toEqual(request);
  });

  it('leaves replicaId and currentLeaderEpoch off a v0 request and decodes them as their defaults', () => {
    // By hand: topics int32 count 1; topic int16 length 2 + "t1"; partitions int32 count 1;
    // partition int32 0; leaderEpoch int32 4. No tagged fields in classic versions.
    const expected = '00000001' + '0002' + '7431' + '00000001' + '00000000' + '00000004';
    const encoded = encodeMessage(OffsetForLeaderEpochRequest, 0, request);
    expect(encoded.toString('hex')).toBe(expected);
    expect(decodeMessage(OffsetForLeaderEpochRequest, 0, encoded)).toEqual({
      replicaId: -2,
      topics: [{ topic: 't1', partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 4 }] }],
    });
  });
});
