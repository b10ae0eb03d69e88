import {
  apiKeyOf,
  lockDownConfig,
  lockedDownOptions,
  sharedFolder,
  SYNCTHING_FOLDER_ID,
  syncthingPorts,
} from './syncthing-peer';

// The parts of a config.xml that `syncthing generate` (v1.19.2) writes which lockDownConfig
// touches, with the defaults section that repeats some element names inside <folder>/<device>.
const GENERATED = `<configuration version="36">
    <device id="SELF-ID" name="vm" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">
        <address>dynamic</address>
    </device>
    <gui enabled="true" tls="false" debugging="false">
        <address>127.0.0.1:8384</address>
        <apikey>generatedKey123</apikey>
        <theme>default</theme>
    </gui>
    <ldap></ldap>
    <options>
        <listenAddress>default</listenAddress>
        <globalAnnounceServer>default</globalAnnounceServer>
        <globalAnnounceEnabled>true</globalAnnounceEnabled>
        <localAnnounceEnabled>true</localAnnounceEnabled>
        <relaysEnabled>true</relaysEnabled>
        <startBrowser>true</startBrowser>
        <natEnabled>true</natEnabled>
        <urAccepted>0</urAccepted>
        <autoUpgradeIntervalH>12</autoUpgradeIntervalH>
        <setLowPriority>true</setLowPriority>
        <crashReportingEnabled>true</crashReportingEnabled>
    </options>
    <defaults>
        <device id="" compression="metadata" introducer="false" skipIntroductionRemovals="false" introducedBy="">
            <address>dynamic</address>
        </device>
    </defaults>
</configuration>
`;

describe('syncthingPorts', () => {
  it('gives four distinct ports that move with the offset', () => {
    const ports = syncthingPorts(0).flatMap(({ gui, listen }) => [gui, listen]);
    expect(new Set(ports).size).toBe(4);
    expect(syncthingPorts(600).flatMap(({ gui, listen }) => [gui, listen])).toEqual(
      ports.map((port) => port + 600),
    );
  });
});

describe('lockDownConfig', () => {
  const ports = { gui: 23901, listen: 23903 };
  const locked = lockDownConfig(GENERATED, ports);

  it('listens on 127.0.0.1 only, with no discovery, relays, NAT, reports, upgrades or nice', () => {
    expect(locked).toContain('<listenAddress>tcp://127.0.0.1:23903</listenAddress>');
    for (const [element, value] of Object.entries(lockedDownOptions(ports))) {
      expect(locked).toContain(`<${element}>${value}</${element}>`);
    }
    expect(locked).toContain('<urAccepted>-1</urAccepted>');
    expect(locked).toContain('<setLowPriority>false</setLowPriority>');
  });

  it("moves the GUI to the given port and leaves the devices' addresses alone", () => {
    expect(locked).toContain('<address>127.0.0.1:23901</address>');
    expect(locked).not.toContain('8384');
    expect(locked.match(/<address>dynamic<\/address>/g)).toHaveLength(2);
    expect(apiKeyOf(locked)).toBe('generatedKey123');
  });

  it('refuses a config whose options it cannot find exactly once', () => {
    expect(() => lockDownConfig(GENERATED.replace(/<relaysEnabled>.*\n/, ''), ports)).toThrow(
      'config.xml has 0 <relaysEnabled>, expected one',
    );
    const twice = GENERATED.replace(
      '<natEnabled>true</natEnabled>',
      '<natEnabled>true</natEnabled><natEnabled>true</natEnabled>',
    );
    expect(() => lockDownConfig(twice, ports)).toThrow('config.xml has 2 <natEnabled>');
  });
});

describe('apiKeyOf', () => {
  it('needs a key', () => {
    expect(() => apiKeyOf(GENERATED.replace('<apikey>generatedKey123</apikey>', ''))).toThrow(
      'no <gui><apikey>',
    );
  });
});

describe('sharedFolder', () => {
  const template = {
    id: '',
    path: '~',
    type: 'sendreceive',
    rescanIntervalS: 3600,
    fsWatcherEnabled: false,
    fsWatcherDelayS: 10,
    devices: [{ deviceID: 'SELF', introducedBy: '', encryptionPassword: '' }],
    maxConflicts: 10,
  };

  it('keeps the template, watches with the given delay, rescans rarely and shares with the peer', () => {
    const folder = sharedFolder(template, { path: '/tmp/one', peer: 'PEER', watcherDelayS: 1 });
    expect(folder).toEqual({
      ...template,
      id: SYNCTHING_FOLDER_ID,
      label: SYNCTHING_FOLDER_ID,
      path: '/tmp/one',
      type: 'sendreceive',
      fsWatcherEnabled: true,
      fsWatcherDelayS: 1,
      rescanIntervalS: 86_400,
      devices: [
        { deviceID: 'SELF', introducedBy: '', encryptionPassword: '' },
        { deviceID: 'PEER', introducedBy: '', encryptionPassword: '' },
      ],
    });
  });

  it('lists the peer once even if the template already has it', () => {
    const withPeer = { ...template, devices: [...template.devices, { deviceID: 'PEER', introducedBy: 'X' }] };
    const folder = sharedFolder(withPeer, { path: '/tmp/one', peer: 'PEER', watcherDelayS: 1 });
    expect((folder.devices as Array<{ deviceID: string }>).map((device) => device.deviceID)).toEqual([
      'SELF',
      'PEER',
    ]);
  });
});
