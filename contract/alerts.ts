import { Type } from 'typebox';
import { Nullable } from './nullable.ts';

/** An anomaly alert: an hour of sending far above its baseline (issue #18, item 6). */
export const AlertSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    subject: Type.Union([Type.Literal('org'), Type.Literal('rep')], {
      description: 'The whole organisation, or one rep',
    }),
    rep: Nullable(Type.Object({ userId: Type.String({ format: 'uuid' }), name: Nullable(Type.String()) })),
    metric: Type.Union(
      [
        Type.Literal('outbound'),
        Type.Literal('new_recipients'),
        Type.Literal('opt_outs'),
        Type.Literal('carrier_errors'),
        Type.Literal('new_device'),
        Type.Literal('new_country'),
      ],
      {
        description:
          'Texts sent, texts to numbers never texted before, opt-outs, carrier errors; or a sign-in from a device or a country the person never signed in from',
      },
    ),
    device: Nullable(Type.String({ description: 'new_device: the browser and system signed in from' })),
    country: Nullable(
      Type.String({
        description:
          'new_country: the country signed in from (ISO 3166 alpha-2; IP Geolocation by DB-IP, https://db-ip.com)',
      }),
    ),
    hourStart: Type.String({ format: 'date-time', description: 'The hour judged (UTC)' }),
    observed: Type.Number({ description: 'That hour’s count' }),
    expected: Type.Number({ description: 'The baseline’s mean for an hour' }),
    deviation: Type.Number({ description: 'Standard deviations above the baseline' }),
    paused: Type.Boolean({ description: 'The rep’s sending was paused by it (anomaly.pauseRep)' }),
    createdAt: Type.String({ format: 'date-time' }),
    resolvedAt: Nullable(Type.String({ format: 'date-time' })),
    resolvedBy: Nullable(Type.String()),
    resolutionNote: Nullable(Type.String()),
  },
  { description: 'An anomaly alert' },
);

export const AlertListSchema = Type.Object({
  alerts: Type.Array(AlertSchema),
  nextCursor: Nullable(Type.String()),
});
export const AlertAnswerSchema = Type.Object({ alert: AlertSchema });
