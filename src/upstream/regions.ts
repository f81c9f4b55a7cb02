/**
 * The RDS endpoints of Huawei Cloud's 34 regions, as the official SDKs list them (RdsRegion).
 * All are `https://rds.{region}.myhuaweicloud.com` but one: `eu-west-101` lives under `.eu`.
 */
export const RDS_REGIONS: readonly string[] = [
  'af-north-1', 'af-south-1', 'ae-ad-1', 'ap-southeast-1', 'ap-southeast-2', 'ap-southeast-3', 'ap-southeast-4',
  'ap-southeast-5', 'cn-east-2', 'cn-east-3', 'cn-east-4', 'cn-east-5', 'cn-north-1', 'cn-north-2', 'cn-north-4',
  'cn-north-9', 'cn-north-11', 'cn-north-12', 'cn-south-1', 'cn-south-2', 'cn-south-4', 'cn-southwest-2',
  'cn-southwest-3', 'eu-west-0', 'eu-west-101', 'la-north-2', 'la-south-2', 'me-east-1', 'my-kualalumpur-1',
  'na-mexico-1', 'ru-moscow-1', 'ru-northwest-2', 'sa-brazil-1', 'tr-west-1',
];

/** The endpoint of a region, or undefined for a region RDS does not serve. */
export function rdsEndpoint(region: string): string | undefined {
  if (!RDS_REGIONS.includes(region)) return undefined;
  return region === 'eu-west-101' ? 'https://rds.eu-west-101.myhuaweicloud.eu' : `https://rds.${region}.myhuaweicloud.com`;
}
