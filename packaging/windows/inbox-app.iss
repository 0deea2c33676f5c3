; Inno Setup 6 script for Inbox on Windows (x64). packaging/README.md has the whole recipe:
;
;   .venv\Scripts\pyinstaller --noconfirm --clean packaging\inbox-app.spec
;   iscc /DAppVersion=0.1.0 packaging\windows\inbox-app.iss
;
; gives dist\Inbox-0.1.0-setup.exe. With /DSign (and a sign tool named "inboxsign" given to
; iscc with /S) the installer and its uninstaller are signed with signtool.
;
; Installs per user (no administrator rights) or for all users: the installer asks, and
; /CURRENTUSER or /ALLUSERS chooses on the command line. Registers .p12, .pfx (install an
; identity), .mobileconfig (install a profile) and .eml (read a message) in "Open with";
; tests/test_packaging.py keeps this list in step with macOS and Linux. The uninstaller keeps
; the user's data and keyring entries unless asked (a question, or /PURGE when silent).

#ifndef AppVersion
  #error Pass the version from pyproject.toml: iscc /DAppVersion=X.Y.Z packaging\windows\inbox-app.iss
#endif

#define AppName "Inbox"
#define AppExe "inbox-app.exe"
; What `inbox_app.paths` uses on Windows: %LOCALAPPDATA%\inbox-app, and the keyring service.
#define DataDirName "inbox-app"
#define KeyringService "inbox-app"

[Setup]
AppId={{D54335C3-BAE0-4371-8B60-A548376058DC}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher={#AppName}
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
; Per user by default; the first page offers "for all users" (needs administrator rights).
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
SourceDir=..\..
OutputDir=dist
OutputBaseFilename=Inbox-{#AppVersion}-setup
SetupIconFile=resources\inbox-app.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
CloseApplications=yes
#ifdef Sign
SignTool=inboxsign
SignedUninstaller=yes
#endif

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"

[CustomMessages]
en.AssociateFiles=Open .p12, .pfx, .mobileconfig and .eml files with {#AppName}
en.FileTypes=File types:
en.RemoveUserData=Also delete your {#AppName} data on this computer: accounts, cached mail, installed certificates and private keys, and {#AppName}'s entries in Windows Credential Manager?%n%nChoose No to keep them for a later installation (recommended).

[Tasks]
Name: "associate"; Description: "{cm:AssociateFiles}"; GroupDescription: "{cm:FileTypes}"
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The PyInstaller one-folder build: inbox-app.exe (no console), inbox-app-cli.exe (the command
; line and --self-test) and _internal\.
Source: "dist\inbox-app\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; HKA is HKLM\Software\Classes for all users, HKCU\Software\Classes for one. Each file type
; gets a ProgID and an OpenWithProgids entry: Windows then offers Inbox (and asks the user the
; first time) without the installer taking over anyone's default application.
Root: HKA; Subkey: "Software\Classes\Inbox.Identity"; ValueType: string; ValueName: ""; ValueData: "PKCS #12 certificate and private key"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Inbox.Identity\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Inbox.Identity\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Inbox.Profile"; ValueType: string; ValueName: ""; ValueData: "Configuration profile"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Inbox.Profile\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Inbox.Profile\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Inbox.Message"; ValueType: string; ValueName: ""; ValueData: "Email message"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Inbox.Message\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: associate
Root: HKA; Subkey: "Software\Classes\Inbox.Message\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.p12\OpenWithProgids"; ValueType: string; ValueName: "Inbox.Identity"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.pfx\OpenWithProgids"; ValueType: string; ValueName: "Inbox.Identity"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.mobileconfig\OpenWithProgids"; ValueType: string; ValueName: "Inbox.Profile"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.eml\OpenWithProgids"; ValueType: string; ValueName: "Inbox.Message"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
; "Open with" names the application and lists what it opens.
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".p12"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".pfx"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".mobileconfig"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".eml"; ValueData: ""

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
var
  RemoveUserData: Boolean;

{ True when the uninstaller was started with /PURGE (silent uninstalls cannot be asked). }
function PurgeRequested(): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), '/PURGE') = 0 then
      Result := True;
end;

function EndsWith(const Text, Suffix: String): Boolean;
begin
  Result := (Length(Text) >= Length(Suffix)) and
    (Copy(Text, Length(Text) - Length(Suffix) + 1, Length(Suffix)) = Suffix);
end;

{ Delete the keyring entries of every Inbox home of this user. The keyring package keeps a
  generic credential named "inbox-app", or "<name>@inbox-app" when there are several;
  `cmdkey /list` shows them as "...: LegacyGeneric:target=<name>". }
procedure ForgetKeyringEntries();
var
  Listing, Line, Target, Name: String;
  Lines: TArrayOfString;
  I, At, ResultCode: Integer;
begin
  Listing := AddBackslash(GetTempDir()) + 'inbox-app-credentials.txt';
  if not Exec(ExpandConstant('{cmd}'), '/C cmdkey /list > "' + Listing + '"', '', SW_HIDE,
              ewWaitUntilTerminated, ResultCode) then
    Exit;
  if not LoadStringsFromFile(Listing, Lines) then
    Exit;
  for I := 0 to GetArrayLength(Lines) - 1 do
  begin
    Line := Trim(Lines[I]);
    At := Pos('target=', Line);
    if At > 0 then
    begin
      Name := Trim(Copy(Line, At + Length('target='), Length(Line)));
      Target := Trim(Copy(Line, Pos(': ', Line) + 2, Length(Line)));
      if (Name = '{#KeyringService}') or EndsWith(Name, '@{#KeyringService}') then
        Exec(ExpandConstant('{sys}\cmdkey.exe'), '/delete:"' + Target + '"', '', SW_HIDE,
             ewWaitUntilTerminated, ResultCode);
    end;
  end;
  DeleteFile(Listing);
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if CurUninstallStep = usUninstall then
    { Keep by default: a silent uninstall (an administrator's upgrade or cleanup) never deletes
      anyone's keys unless /PURGE says so; an interactive one asks, defaulting to No. }
    RemoveUserData := PurgeRequested() or
      (SuppressibleMsgBox(CustomMessage('RemoveUserData'), mbConfirmation,
                          MB_YESNO or MB_DEFBUTTON2, IDNO) = IDYES);
  if (CurUninstallStep = usPostUninstall) and RemoveUserData then
  begin
    { The data of the user running the uninstaller: %LOCALAPPDATA%\inbox-app. }
    DelTree(ExpandConstant('{localappdata}\{#DataDirName}'), True, True, True);
    ForgetKeyringEntries();
  end;
end;
